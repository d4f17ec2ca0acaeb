"""ACLs through the SDK: each document is readable and writable by exactly the right callers.

The callers: an anonymous client, ann, bob, carol (a member of the Staff role) and the
master key. Reads are checked through find, count, get, include and subqueries; writes
through save and destroy, and a denied write must raise 403 and change nothing.
"""

import pytest

import leancloud
from leancloud import ACL, Object, Query, Role, User

from .conftest import error_code, master_key, sdk_as_master, sign_up, unique

Doc = Object.extend("Doc")  # only the module's documents, one per ACL, never deleted
Holder = Object.extend("Holder")
Scratch = Object.extend("Scratch")  # documents that tests create, change and delete

CALLERS = ("anonymous", "ann", "bob", "carol", "master")

# document label -> (readers, writers); "*" = public, "staff" = the Staff role
ACLS = {
    "open": None,  # no ACL at all: open to everyone
    "public_read": (["*"], ["ann"]),
    "ann_only": (["ann"], ["ann"]),
    "staff": (["staff"], ["staff"]),
    "staff_read_ann_write": (["staff"], ["ann"]),
    "public_rw": (["*"], ["*"]),
    "nobody": ([], []),  # an empty ACL: master only
}
READABLE = {
    "anonymous": {"open", "public_read", "public_rw"},
    "ann": {"open", "public_read", "ann_only", "public_rw"},
    "bob": {"open", "public_read", "public_rw"},
    "carol": {"open", "public_read", "staff", "staff_read_ann_write", "public_rw"},
    "master": set(ACLS),
}
WRITABLE = {
    "anonymous": {"open", "public_rw"},
    "ann": {"open", "public_read", "ann_only", "staff_read_ann_write", "public_rw"},
    "bob": {"open", "public_rw"},
    "carol": {"open", "staff", "public_rw"},
    "master": set(ACLS),
}


def build_acl(spec, people):
    """An ACL from ``(readers, writers)``; None stays None."""
    if spec is None:
        return None
    acl = ACL()
    for right, names in zip(("read", "write"), spec):
        for name in names:
            if name == "*":
                getattr(acl, f"set_public_{right}_access")(True)
            elif name == "staff":
                getattr(acl, f"set_role_{right}_access")(people["staff"], True)
            else:
                getattr(acl, f"set_{right}_access")(people[name], True)
    return acl


def new_doc(label, people, cls=Doc):
    doc = cls(label=label)
    acl = build_acl(ACLS[label], people)
    if acl is not None:
        doc.set_acl(acl)
    return doc


@pytest.fixture(scope="module")
def people(module_db):
    """ann, bob, carol, the Staff role (with carol), and one Doc and Holder per ACL."""
    with sdk_as_master(module_db):
        found = {name: sign_up(nickname=name) for name in ("ann", "bob", "carol")}
        staff = Role(unique("Staff"))
        staff.users.add(found["carol"])
        staff.save()
        found["staff"] = staff
        docs = {label: new_doc(label, found) for label in ACLS}
        Object.save_all(list(docs.values()))
        Object.save_all([Holder(doc=doc, label=label) for label, doc in docs.items()])
    found["docs"] = docs
    return found


@pytest.fixture
def act_as(as_client, people):
    """Switch the SDK to one of CALLERS: its session, or no session, or the master key."""

    def switch(caller):
        leancloud.use_master_key(caller == "master")
        User.set_current(people.get(caller))

    return switch


def with_acl(cls, doc_id):
    """The document as a query finds it, with its ACL (``include_acl`` applies to finds)."""
    return Query(cls).equal_to("objectId", doc_id).include_acl().first()


def labels(objects):
    return {obj.get("label") for obj in objects}


# -- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_find_and_count_show_only_readable_documents(act_as, caller):
    act_as(caller)
    assert labels(Query(Doc).find()) == READABLE[caller]
    assert Query(Doc).count() == len(READABLE[caller])
    assert Query(Doc).exists("label").count() == len(READABLE[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_get_and_fetch_of_an_unreadable_document_reveal_nothing(act_as, people, caller):
    act_as(caller)
    for label, doc in people["docs"].items():
        got = Query(Doc).get(doc.id)
        fetched = Doc.create_without_data(doc.id)
        fetched.fetch()
        expected = label if label in READABLE[caller] else None
        assert (got.get("label"), fetched.get("label")) == (expected, expected), label


@pytest.mark.parametrize("caller", CALLERS)
def test_include_and_subqueries_hide_unreadable_documents(act_as, caller):
    act_as(caller)
    holders = Query(Holder).include("doc").limit(1000).find()
    assert len(holders) == len(ACLS)  # holders themselves are open
    expanded = {h.get("label") for h in holders if h.get("doc").get("label") is not None}
    assert expanded == READABLE[caller]
    assert all(h.get("doc").id for h in holders)  # the pointer itself stays
    via_subquery = Query(Holder).matches_query("doc", Query(Doc)).find()
    assert labels(via_subquery) == READABLE[caller]
    hidden = Query(Holder).does_not_match_query("doc", Query(Doc)).find()
    assert labels(hidden) == set(ACLS) - READABLE[caller]


# -- writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
def test_updates_succeed_exactly_where_the_acl_grants_write(act_as, people, caller):
    act_as(caller)
    for label, doc in people["docs"].items():
        stale = Doc.create_without_data(doc.id)
        stale.increment(f"saves_by_{caller}")
        if label in WRITABLE[caller]:
            stale.save()
        else:
            assert error_code(stale.save) == 403, label
    with master_key():
        changed = Query(Doc).exists(f"saves_by_{caller}").find()
    assert labels(changed) == WRITABLE[caller]
    assert {d.get(f"saves_by_{caller}") for d in changed} == {1}


@pytest.mark.parametrize("caller", CALLERS)
def test_deletes_succeed_exactly_where_the_acl_grants_write(act_as, people, caller):
    with master_key():
        victims = {label: new_doc(label, people, Scratch) for label in ACLS}
        for doc in victims.values():
            doc.set("victim_of", caller)
        Object.save_all(list(victims.values()))
    act_as(caller)
    for label, doc in victims.items():
        if label in WRITABLE[caller]:
            doc.destroy()
        else:
            assert error_code(doc.destroy) == 403, label
    with master_key():
        left = Query(Scratch).equal_to("victim_of", caller).find()
    assert labels(left) == set(ACLS) - WRITABLE[caller]


def test_a_denied_write_changes_nothing(act_as, people):
    act_as("bob")
    doc = Doc.create_without_data(people["docs"]["public_read"].id)
    doc.set("label", "defaced")
    doc.unset("extra")
    doc.set_acl(ACL())
    assert error_code(doc.save) == 403
    act_as("master")
    server = with_acl(Doc, doc.id)
    assert server.get("label") == "public_read"
    assert server.get_acl() == build_acl(ACLS["public_read"], people)


# -- ACLs that change -----------------------------------------------------------------------


def test_an_owner_can_open_her_document_to_everyone(act_as, people):
    act_as("ann")
    doc = Scratch(label="was private")
    doc.set_acl(build_acl((["ann"], ["ann"]), people))
    doc.save()
    act_as("bob")
    assert Query(Scratch).get(doc.id).get("label") is None
    act_as("ann")
    acl = doc.get_acl()
    acl.set_public_read_access(True)
    doc.set_acl(acl)
    doc.save()
    act_as("bob")
    assert Query(Scratch).get(doc.id).get("label") == "was private"
    assert with_acl(Scratch, doc.id).get_acl().get_public_read_access()


def test_joining_and_leaving_a_role_grants_and_revokes_access(act_as, people):
    act_as("master")
    role = Role(unique("Temp"))
    role.save()
    doc = Scratch(label="for temps")
    doc.set_acl(build_acl(([], []), people))
    doc.get_acl().set_role_read_access(role, True)
    doc.save()
    act_as("bob")
    assert Query(Scratch).equal_to("label", "for temps").count() == 0
    act_as("master")
    role.users.add(people["bob"])
    role.save()
    act_as("bob")
    assert Query(Scratch).equal_to("label", "for temps").count() == 1
    act_as("master")
    role.users.remove(people["bob"])
    role.save()
    act_as("bob")
    assert Query(Scratch).equal_to("label", "for temps").count() == 0


def test_a_role_holding_another_role_grants_its_access_to_that_roles_members(act_as, people):
    act_as("master")
    managers = Role(unique("Managers"), ACL())
    managers.roles.add(people["staff"])  # Staff's members (carol) inherit Managers' access
    managers.save()
    doc = Scratch(label="for managers")
    doc.set_acl(build_acl(([], []), people))
    doc.get_acl().set_role_read_access(managers, True)
    doc.get_acl().set_role_write_access(managers, True)
    doc.save()
    act_as("carol")
    assert Query(Scratch).get(doc.id).get("label") == "for managers"
    doc.set("label", "edited by carol").save()
    act_as("bob")
    assert Query(Scratch).equal_to("objectId", doc.id).count() == 0
    assert error_code(lambda: doc.set("label", "bob").save()) == 403
