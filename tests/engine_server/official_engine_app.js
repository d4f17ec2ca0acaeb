// The app of official_engine_app.py, written for the official Node.js LeanEngine SDK
// (npm leanengine 3.8.0 with leancloud-storage 4.15.2), run unchanged by
// test_official_engine.py with keys, port and API address in the LEANCLOUD_* environment
// LeanEngine gave apps. Our server is its platform.
'use strict';

const AV = require('leanengine');

AV.init({
  appId: process.env.LEANCLOUD_APP_ID,
  appKey: process.env.LEANCLOUD_APP_KEY,
  masterKey: process.env.LEANCLOUD_APP_MASTER_KEY,
  hookKey: process.env.LEANCLOUD_APP_HOOK_KEY,
  serverURLs: process.env.LEANCLOUD_API_SERVER,
});

AV.Cloud.define('hello', (request) => {
  const user = request.currentUser;
  const name = request.params.name || 'world';
  return { greeting: 'hello ' + name, user: user ? user.get('username') : null };
});

AV.Cloud.define('add_note', async (request) => {
  const note = new AV.Object('OfficialNote');
  note.set('text', request.params.text);
  await note.save(); // back to the server, through this app's own beforeSave
  return note;
});

AV.Cloud.beforeSave('OfficialNote', (request) => {
  const text = request.object.get('text');
  if (text === 'forbidden') {
    throw new AV.Cloud.Error('notes may not say that');
  }
  request.object.set('text', text.toUpperCase());
});

AV.Cloud.afterSave('OfficialNote', async (request) => {
  request.object.set('audited', true);
  await request.object.save(); // flagged __ignore_hooks by the SDK, sent with the hook key
});

AV.Cloud.beforeDelete('OfficialNote', (request) => {
  if (request.object.get('text') === 'KEEP') {
    throw new AV.Cloud.Error('this note stays');
  }
});

AV.Cloud.onLogin((request) => {
  if (request.object.get('username').startsWith('banned')) {
    throw new AV.Cloud.Error('banned here', { code: 403 });
  }
});

AV.Cloud.start();
