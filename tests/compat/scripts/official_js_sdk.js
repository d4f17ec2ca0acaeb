// Drive the official LeanCloud JavaScript SDK (npm leancloud-storage) against a server.
//
// Run by tests/compat/test_official_js_sdk.py with NODE_PATH pointing at the cached
// node_modules. The server's URL is LEANCLOUD_API_SERVER, the keys COMPAT_APP_ID,
// COMPAT_APP_KEY and COMPAT_MASTER_KEY. Every step runs even when an earlier one
// failed and records {"value": ...} or {"error": {...}} under its name; the last line
// of stdout is the JSON of all steps. Steps named like the Python script's do the same
// thing and share one expectation (tests/compat/expected.py).
'use strict';

const AV = require('leancloud-storage');

const steps = [];
const state = {};
const MASTER = { useMasterKey: true };

function step(name, run) {
  steps.push([name, run]);
}

function unique(prefix) {
  return prefix + Math.random().toString(16).slice(2, 12);
}

// Per-request credentials: act as this user, not as whoever is current.
function as(user) {
  return { sessionToken: user.getSessionToken() };
}

async function errorCode(action) {
  try {
    await action();
  } catch (error) {
    if (typeof error.code === 'number') return error.code;
    throw error;
  }
  throw new Error('no error raised');
}

const ns = (objects) => objects.map((object) => object.get('n'));
const byId = (className, id) => new AV.Query(className).equalTo('objectId', id);

// -- objects ------------------------------------------------------------------------

step('official_sdk', async () => AV.version);

step('server_time', async () => {
  const now = await AV.Cloud.getServerDate();
  return { aware: now instanceof Date, close: Math.abs(now - Date.now()) < 60000 };
});

step('save_and_fetch', async () => {
  const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  const post = new AV.Object('Post', {
    title: 'hello',
    views: 1,
    tags: ['a'],
    labels: ['x'],
    junk: ['p', 'q'],
    band: 12,
    bor: 12,
    bxor: 12,
    when,
    meta: { k: [1, 2], nested: { ok: true } },
    place: new AV.GeoPoint(10, 20),
  });
  await post.save();
  state.post = post;
  const fetched = AV.Object.createWithoutData('Post', post.id);
  await fetched.fetch();
  return {
    id_matches: fetched.id === post.id,
    created_at_is_date: fetched.createdAt instanceof Date,
    title: fetched.get('title'),
    views: fetched.get('views'),
    tags: fetched.get('tags'),
    when: fetched.get('when').getTime() === when.getTime(),
    meta: fetched.get('meta'),
    place: [fetched.get('place').latitude, fetched.get('place').longitude],
  };
});

step('update_operations', async () => {
  const post = state.post;
  post.increment('views', 2);
  post.add('tags', 'b');
  post.addUnique('labels', 'x');
  post.addUnique('labels', 'y');
  post.remove('junk', 'p');
  post.bitAnd('band', 10);
  post.bitOr('bor', 3);
  post.bitXor('bxor', 10);
  await post.save();
  const fresh = await new AV.Query('Post').get(post.id);
  const keys = ['views', 'tags', 'labels', 'junk', 'band', 'bor', 'bxor'];
  return Object.fromEntries(keys.map((key) => [key, fresh.get(key)]));
});

step('fetch_when_save', async () => {
  const post = state.post;
  await AV.Object.createWithoutData('Post', post.id).increment('views', 10).save();
  post.increment('views', 1);
  await post.save(null, { fetchWhenSave: true });
  return post.get('views');
});

step('conditional_save', async () => {
  const post = state.post;
  post.set('title', 'changed');
  const mismatch = await errorCode(() =>
    post.save(null, { query: new AV.Query('Post').equalTo('views', -1) }),
  );
  post.set('title', 'matched');
  await post.save(null, { query: new AV.Query('Post').equalTo('views', 14) });
  return { mismatch, stored: (await new AV.Query('Post').get(post.id)).get('title') };
});

step('unset_field', async () => {
  const post = state.post;
  post.unset('junk');
  await post.save();
  return (await new AV.Query('Post').get(post.id)).has('junk');
});

step('pointer_saved_with_parent', async () => {
  const tag = new AV.Object('Tag', { name: 'child' });
  const post = new AV.Object('Post', { title: 'parent', tag });
  await post.save();
  const fetched = await new AV.Query('Post').include('tag').get(post.id);
  return {
    child_saved: Boolean(tag.id),
    class: fetched.get('tag').className,
    name: fetched.get('tag').get('name'),
  };
});

step('destroy', async () => {
  const post = new AV.Object('Post', { title: 'doomed' });
  await post.save();
  await post.destroy();
  return byId('Post', post.id).count();
});

step('save_all_destroy_all', async () => {
  const posts = [0, 1, 2].map((n) => new AV.Object('Post', { title: 'batch', n }));
  await AV.Object.saveAll(posts);
  const ids = posts.map((post) => post.id);
  const saved = await new AV.Query('Post').containedIn('objectId', ids).count();
  await AV.Object.destroyAll(posts); // one DELETE of /classes/Post/<id>,<id>,<id>
  const left = await new AV.Query('Post').containedIn('objectId', ids).count();
  return { ids: ids.every(Boolean), saved, left };
});

step('fetch_all', async () => {
  const posts = [0, 1].map((n) => new AV.Object('Post', { title: 'fetched', n }));
  await AV.Object.saveAll(posts);
  const empty = posts.map((post) => AV.Object.createWithoutData('Post', post.id));
  await AV.Object.fetchAll(empty);
  return ns(empty);
});

step('save_all_updates', async () => {
  const posts = [0, 1].map((n) => new AV.Object('Post', { title: 'before', n }));
  await AV.Object.saveAll(posts);
  for (const post of posts) {
    post.set('title', 'after');
    post.increment('n', 10);
  }
  await AV.Object.saveAll(posts); // one batch of PUTs
  const ids = posts.map((post) => post.id);
  const fresh = await new AV.Query('Post').containedIn('objectId', ids).ascending('n').find();
  return fresh.map((post) => [post.get('title'), post.get('n')]);
});

// -- queries --------------------------------------------------------------------------

step('seed_query_data', async () => {
  const owners = [
    new AV.Object('Owner', { rank: 0, pick: 3, name: 'first' }),
    new AV.Object('Owner', { rank: 1, pick: 7, name: 'second' }),
  ];
  await AV.Object.saveAll(owners);
  const items = [];
  for (let i = 0; i < 10; i += 1) {
    const item = new AV.Object('Item', {
      n: i,
      name: (i % 2 ? 'Item' : 'item') + i,
      tags: [`t${i % 3}`, 'all'].concat(i < 3 ? ['low'] : []),
      even: i % 2 === 0,
      loc: new AV.GeoPoint(i, i),
      owner: owners[Math.floor(i / 5)],
      at: new Date(Date.UTC(2024, 0, i + 1)),
    });
    if (i < 5) item.set('opt', i);
    items.push(item);
  }
  await AV.Object.saveAll(items);
  state.items = items;
  state.owners = owners;
  return items.filter((item) => item.id).length;
});

const items = () => new AV.Query('Item');
const owners = () => new AV.Query('Owner');
const origin = () => new AV.GeoPoint(0, 0);

const queries = {
  equal_to: () => items().equalTo('n', 3),
  equal_to_array_element: () => items().equalTo('tags', 'low'),
  not_equal_to: () => items().notEqualTo('n', 3),
  less_than: () => items().lessThan('n', 3),
  greater_than: () => items().greaterThan('n', 7),
  less_than_or_equal_to: () => items().lessThanOrEqualTo('n', 2),
  greater_than_or_equal_to: () => items().greaterThanOrEqualTo('n', 8),
  contained_in: () => items().containedIn('n', [1, 4, 11]),
  not_contained_in: () => items().notContainedIn('n', [0, 1, 2, 3, 4, 5, 6, 7]),
  contains_all: () => items().containsAll('tags', ['t0', 'all']),
  size_equal_to: () => items().sizeEqualTo('tags', 3),
  exists: () => items().exists('opt'),
  does_not_exist: () => items().doesNotExist('opt'),
  matches_regex: () => items().matches('name', /^item/),
  matches_regex_ignore_case: () => items().matches('name', '^item', 'i'),
  contains: () => items().contains('name', 'em1'),
  starts_with: () => items().startsWith('name', 'Item'),
  ends_with: () => items().endsWith('name', '9'),
  boolean: () => items().equalTo('even', false),
  date_range: () =>
    items()
      .greaterThan('at', new Date(Date.UTC(2024, 0, 8)))
      .lessThanOrEqualTo('at', new Date(Date.UTC(2024, 0, 9))),
  pointer_equal: () => items().equalTo('owner', state.owners[1]),
  descending_limit: () => items().descending('n').limit(3),
  two_orders: () => items().ascending('even').addDescending('n'),
  skip_limit: () => items().ascending('n').skip(2).limit(3),
  or: () => AV.Query.or(items().lessThan('n', 2), items().greaterThan('n', 8)),
  and: () => AV.Query.and(items().greaterThan('n', 2), items().lessThan('n', 5)),
  matches_query: () => items().matchesQuery('owner', owners().equalTo('rank', 1)),
  does_not_match_query: () => items().doesNotMatchQuery('owner', owners().equalTo('rank', 1)),
  matches_key_in_query: () => items().matchesKeyInQuery('n', 'pick', owners()),
  does_not_match_key_in_query: () => items().doesNotMatchKeyInQuery('n', 'pick', owners()),
  near: () => items().near('loc', origin()).limit(3),
  within_radians: () => items().withinRadians('loc', origin(), 0.03),
  within_miles: () => items().withinMiles('loc', origin(), 200),
  within_kilometers: () => items().withinKilometers('loc', origin(), 200),
  within_geo_box: () =>
    items().withinGeoBox('loc', new AV.GeoPoint(0.5, 0.5), new AV.GeoPoint(3.5, 3.5)),
};

for (const [name, build] of Object.entries(queries)) {
  step(`query_${name}`, async () => ns(await build().find()));
}

step('query_count', async () => items().lessThan('n', 5).count());

step('query_find_and_count', async () => {
  const [found, count] = await items().lessThan('n', 5).limit(2).ascending('n').findAndCount();
  return { n: ns(found), count };
});

step('query_first', async () => (await items().descending('n').first()).get('n'));

step('query_get', async () => (await items().get(state.items[4].id)).get('n'));

step('query_select', async () => {
  const [found] = await items().equalTo('n', 1).select('n', 'even').find();
  return Object.keys(found.attributes).sort();
});

step('query_include', async () => {
  const [found] = await items().equalTo('n', 6).include('owner').find();
  return found.get('owner').get('name');
});

step('query_missing_class', async () => ns(await new AV.Query('NoSuchClass').find()));

step('get_from_missing_class', async () =>
  errorCode(() => new AV.Query('NoSuchClass').get('0123456789abcdef01234567')),
);

step('query_get_missing', async () => errorCode(() => items().get('0123456789abcdef01234567')));

step('fetch_with_keys', async () => {
  const item = AV.Object.createWithoutData('Item', state.items[6].id);
  await item.fetch({ keys: ['n', 'owner'], include: ['owner'] });
  return { n: item.get('n'), name: item.has('name'), owner: item.get('owner').get('name') };
});

step('batch_error', async () =>
  errorCode(() => AV.Object.saveAll([new AV.Object('Item', { n: 'not a number' })])),
);

step('query_each', async () => {
  const seen = [];
  await items().each((item) => seen.push(item.get('n')), { batchSize: 3 });
  return seen.sort((a, b) => a - b);
});

step('query_scan', async () => {
  const cursor = items().scan({ batchSize: 3 }, MASTER);
  const seen = [];
  for (let next = await cursor.next(); !next.done; next = await cursor.next()) {
    seen.push(next.value.get('n'));
  }
  return seen.sort((a, b) => a - b);
});

// -- relations ------------------------------------------------------------------------

step('relations', async () => {
  const tags = [new AV.Object('Tag', { name: 'red' }), new AV.Object('Tag', { name: 'blue' })];
  await AV.Object.saveAll(tags);
  const post = new AV.Object('Post', { title: 'related' });
  post.relation('labels_rel').add(tags);
  await post.save();
  const names = async () =>
    (await post.relation('labels_rel').query().find()).map((tag) => tag.get('name')).sort();
  const related = await names();
  const reverse = await AV.Relation.reverseQuery('Post', 'labels_rel', tags[0]).find();
  post.relation('labels_rel').remove(tags[0]);
  await post.save();
  const after = await names();
  const fetched = (await new AV.Query('Post').get(post.id)).get('labels_rel');
  return {
    related,
    reverse: reverse.map((found) => found.id === post.id),
    after_remove: after,
    field_type: fetched instanceof AV.Relation ? 'Relation' : typeof fetched,
    target: fetched.targetClassName,
  };
});

// -- users, sessions and ACLs ---------------------------------------------------------

const password = (user) => `pw-${user.getUsername()}`;

step('user_sign_up', async () => {
  const name = unique('js');
  const user = await AV.User.signUp(name, `pw-${name}`, { nickname: 'Ann' });
  state.alice = user;
  const current = AV.User.current();
  return {
    token: Boolean(user.getSessionToken()),
    current: Boolean(current) && current.id === user.id,
    password_kept: user.get('password') !== undefined,
    nickname: (await AV.User.become(user.getSessionToken())).get('nickname'),
  };
});

step('user_is_authenticated', async () => {
  const carol = await AV.User.signUp(unique('js'), 'pw-carol');
  const stale = await AV.User.become(carol.getSessionToken());
  const valid = await stale.isAuthenticated();
  await carol.refreshSessionToken(as(carol));
  return { valid, stale_token: await stale.isAuthenticated() };
});

step('user_sign_up_taken_name', async () => {
  const name = state.alice.getUsername();
  return errorCode(() => AV.User.signUp(name, 'whatever'));
});

step('user_log_in', async () => {
  const alice = state.alice;
  await AV.User.logOut();
  const user = await AV.User.logIn(alice.getUsername(), password(alice));
  return {
    same_user: user.id === alice.id,
    current: AV.User.current().id === user.id,
    token: user.getSessionToken() === alice.getSessionToken(),
  };
});

step('user_log_in_wrong_password', async () =>
  errorCode(() => AV.User.logIn(state.alice.getUsername(), 'nope')),
);

step('user_become', async () => {
  const alice = state.alice;
  const user = await AV.User.become(alice.getSessionToken());
  return { same_user: user.id === alice.id, username: user.getUsername() === alice.getUsername() };
});

step('user_become_bad_token', async () => errorCode(() => AV.User.become('not-a-token')));

step('user_query_hides_password', async () => {
  const found = await new AV.Query('_User').equalTo('username', state.alice.getUsername()).find();
  const shown = ['password', 'salt', 'sessionToken', 'username'];
  return found.map((user) => shown.filter((key) => user.has(key)));
});

step('user_update_own_field', async () => {
  const alice = state.alice;
  alice.set('nickname', 'Annie');
  await alice.save(null, as(alice));
  return (await AV.User.become(alice.getSessionToken())).get('nickname');
});

step('user_update_other_user', async () => {
  const bob = await AV.User.signUp(unique('js'), 'pw-bob');
  state.bob = bob;
  const target = AV.Object.createWithoutData('_User', state.alice.id);
  target.set('nickname', 'hacked');
  return errorCode(() => target.save(null, as(bob)));
});

step('user_update_password', async () => {
  const alice = state.alice;
  const name = alice.getUsername();
  const oldToken = alice.getSessionToken();
  await alice.updatePassword(`pw-${name}`, `new-${name}`, as(alice));
  const relogged = await AV.User.logIn(name, `new-${name}`);
  return {
    new_token: alice.getSessionToken() !== oldToken,
    relogin: relogged.id === alice.id,
    old_password: await errorCode(() => AV.User.logIn(name, `pw-${name}`)),
  };
});

step('user_update_password_wrong_old', async () => {
  const alice = state.alice;
  return errorCode(() => alice.updatePassword('wrong', 'whatever', as(alice)));
});

step('user_refresh_session_token', async () => {
  const alice = state.alice;
  const old = alice.getSessionToken();
  await alice.refreshSessionToken(as(alice));
  const fresh = alice.getSessionToken();
  return {
    changed: Boolean(fresh) && fresh !== old,
    old_rejected: await errorCode(() => AV.User.become(old)),
    new_works: (await AV.User.become(fresh)).id === alice.id,
  };
});

step('user_logout', async () => {
  await AV.User.become(state.alice.getSessionToken());
  await AV.User.logOut();
  return AV.User.current() === null;
});

function privateNote(owner) {
  const acl = new AV.ACL();
  acl.setReadAccess(owner.id, true);
  acl.setWriteAccess(owner.id, true);
  const note = new AV.Object('Note', { text: 'secret' });
  note.setACL(acl);
  return note;
}

step('acl_user_only', async () => {
  const { alice, bob } = state;
  const note = privateNote(alice);
  await note.save(null, as(alice));
  const count = (options) => byId('Note', note.id).count(options);
  const seenByOwner = await count(as(alice));
  const seenByOther = await count(as(bob));
  note.set('text', 'defaced');
  const writeByOther = await errorCode(() => note.save(null, as(bob)));
  const seenByAnonymous = await count();
  const seenByMaster = await count(MASTER);
  const withAcl = await byId('Note', note.id).includeACL().first(MASTER);
  const acl = withAcl.getACL();
  return {
    owner: seenByOwner,
    other: seenByOther,
    other_write: writeByOther,
    anonymous: seenByAnonymous,
    master: seenByMaster,
    acl_read: [acl.getReadAccess(alice.id), acl.getReadAccess(bob.id)],
  };
});

step('acl_public_read', async () => {
  const { alice, bob } = state;
  const note = privateNote(alice);
  note.getACL().setPublicReadAccess(true);
  await note.save(null, as(alice));
  const read = (await new AV.Query('Note').get(note.id, as(bob))).get('text');
  const otherDestroy = await errorCode(() =>
    AV.Object.createWithoutData('Note', note.id).destroy(as(bob)),
  );
  await AV.Object.createWithoutData('Note', note.id).destroy(as(alice));
  return { read, other_destroy: otherDestroy, left: await byId('Note', note.id).count() };
});

step('acl_role', async () => {
  const { alice, bob } = state;
  const roleAcl = new AV.ACL();
  roleAcl.setPublicReadAccess(true);
  const role = new AV.Role(unique('editors'), roleAcl);
  role.getUsers().add(bob);
  await role.save(null, MASTER);
  state.role = role;
  const acl = new AV.ACL();
  acl.setRoleReadAccess(role, true);
  const note = new AV.Object('Note', { text: 'for editors' });
  note.setACL(acl);
  await note.save(null, MASTER);
  return {
    member: await byId('Note', note.id).count(as(bob)),
    non_member: await byId('Note', note.id).count(as(alice)),
  };
});

step('user_roles', async () => {
  const names = (await state.bob.getRoles(as(state.bob))).map((role) => role.get('name'));
  return { member: names.includes(state.role.getName()), others: names.length };
});

step('user_auth_data', async () => {
  const auth = { openid: unique('open'), access_token: 'token' };
  const first = await AV.User.loginWithAuthData(auth, 'weixin');
  await AV.User.logOut();
  const again = await AV.User.loginWithAuthData({ ...auth }, 'weixin');
  const current = AV.User.current();
  await AV.User.logOut();
  return {
    same_user: first.id === again.id,
    token: Boolean(again.getSessionToken()),
    username: Boolean(again.getUsername()),
    current: Boolean(current) && current.id === again.id,
  };
});

step('friendship', async () => {
  const { alice, bob } = state;
  await alice.follow(bob.id, as(alice));
  const followees = await AV.User.followeeQuery(alice.id).find(as(alice));
  const followers = await AV.User.followerQuery(bob.id).find(as(alice));
  await alice.unfollow(bob.id, as(alice));
  return {
    followees: followees.map((user) => user.id === bob.id),
    followers: followers.map((user) => user.id === alice.id),
    after_unfollow: await AV.User.followeeQuery(alice.id).count(as(alice)),
  };
});

// -- optional services ----------------------------------------------------------------

step('cql', async () => {
  const result = await AV.Query.doCloudQuery(
    'select * from Item where n < ? order by n',
    [3],
    MASTER,
  );
  return { n: ns(result.results), class: result.className };
});

step('cql_count', async () => {
  const result = await AV.Query.doCloudQuery(
    'select count(*) from Item where even = ?',
    [true],
    MASTER,
  );
  return { count: result.count, results: result.results.length };
});

step('files', async () => {
  const file = new AV.File('hello.txt', Buffer.from('hello, world'), 'text/plain');
  await file.save(MASTER);
  const fetched = AV.File.createWithoutData(file.id);
  await fetched.fetch(MASTER);
  const content = await (await fetch(fetched.url())).text();
  await file.destroy(MASTER);
  return {
    name: fetched.name(),
    size: file.size(),
    content,
    left: await byId('_File', file.id).count(MASTER),
  };
});

step('external_file', async () => {
  const url = 'https://example.com/logo.png';
  const file = AV.File.withURL('logo.png', url);
  await file.save(MASTER);
  const fetched = AV.File.createWithoutData(file.id);
  await fetched.fetch(MASTER);
  return { name: fetched.name(), url: fetched.url() === url };
});

async function main() {
  AV.init({
    appId: process.env.COMPAT_APP_ID,
    appKey: process.env.COMPAT_APP_KEY,
    masterKey: process.env.COMPAT_MASTER_KEY,
    serverURLs: process.env.LEANCLOUD_API_SERVER,
  });
  const results = {};
  for (const [name, run] of steps) {
    try {
      results[name] = { value: await run() };
    } catch (error) {
      const detail = { message: String(error.message || error) };
      if (typeof error.code === 'number') detail.code = error.code;
      results[name] = { error: detail, traceback: String(error.stack || '') };
    }
  }
  process.stdout.write(`\n${JSON.stringify(results)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
