"""Relations through the SDK: add, remove, query and reverse_query against the live server."""

import pytest

from leancloud import LeanCloudError, Object, Query, Relation

Album = Object.extend("Album")
Photo = Object.extend("Photo")

pytestmark = pytest.mark.usefixtures("live")


def photos(*titles):
    saved = [Photo(title=title) for title in titles]
    Object.save_all(saved)
    return saved


def titles(query):
    return sorted(photo.get("title") for photo in query.find())


def album_with(*members, **fields):
    album = Album(**fields)
    album.relation("photos").add(*members)
    album.save()
    return album


def test_add_then_query_the_related_objects():
    p1, p2, p3 = photos("one", "two", "three")
    album = album_with(p1, p2)
    photos("unrelated")  # same class, not in the relation
    relation = album.relation("photos")
    assert relation.target_class_name == "Photo"
    assert titles(relation.query) == ["one", "two"]
    assert titles(relation.query.equal_to("title", "two")) == ["two"]
    assert relation.query.count() == 2
    relation.add([p3])
    album.save()
    assert titles(album.relation("photos").query) == ["one", "three", "two"]


def test_remove_takes_objects_out_and_leaves_them_in_place():
    p1, p2, p3 = photos("keep", "drop", "drop too")
    album = album_with(p1, p2, p3)
    album.relation("photos").remove(p2, p3)
    album.save()
    assert titles(album.relation("photos").query) == ["keep"]
    assert Query(Photo).get(p2.id).get("title") == "drop"  # still exists
    album.relation("photos").remove(p2)  # removing what is not there is fine
    album.save()
    assert titles(album.relation("photos").query) == ["keep"]


def test_adding_twice_keeps_one_link():
    (p1,) = photos("once")
    album = album_with(p1)
    album.relation("photos").add(p1)
    album.save()
    assert album.relation("photos").query.count() == 1


def test_pending_add_and_remove_merge_into_one_save():
    p1, p2 = photos("added", "added then removed")
    album = Album(name="pending")
    relation = album.relation("photos")
    relation.add(p1, p2)
    relation.remove(p2)
    album.save()
    assert titles(album.relation("photos").query) == ["added"]


def test_relation_read_back_from_the_server_knows_its_target():
    (p1,) = photos("fetched")
    album = album_with(p1)
    server = Album.create_without_data(album.id)
    server.fetch()
    relation = server.get("photos")
    assert isinstance(relation, Relation) and relation.target_class_name == "Photo"
    assert titles(server.relation("photos").query) == ["fetched"]
    found = Query(Album).get(album.id).relation("photos")
    assert [type(p) for p in found.query.find()] == [Photo]


def test_query_with_an_unknown_target_asks_the_server_for_the_class():
    (p1,) = photos("redirected")
    album = album_with(p1)
    unknown = Album.create_without_data(album.id).relation("photos")  # never fetched
    assert unknown.target_class_name is None
    found = unknown.query.find()
    assert [(type(p), p.get("title")) for p in found] == [(Photo, "redirected")]


def test_reverse_query_finds_the_parents_holding_a_child():
    p1, p2 = photos("shared", "single")
    first = album_with(p1, p2, name="first")
    second = album_with(p1, name="second")
    album_with(p2, name="third")
    shared = Relation.reverse_query("Album", "photos", p1)
    assert sorted(a.get("name") for a in shared.find()) == ["first", "second"]
    assert {a.id for a in Relation.reverse_query(Album, "photos", p1).find()} == {
        first.id,
        second.id,
    }
    first.relation("photos").remove(p1)
    first.save()
    assert [a.get("name") for a in Relation.reverse_query(Album, "photos", p1).find()] == ["second"]


def test_relation_queries_combine_with_other_conditions_and_includes():
    p1, p2 = photos("a", "b")
    album = album_with(p1, p2)
    p1.set("album", album)
    p1.save()
    query = album.relation("photos").query.exists("album").include("album")
    (found,) = query.find()
    assert found.id == p1.id
    assert found.get("album").relation("photos").target_class_name == "Photo"
    this_album = Query(Album).equal_to("objectId", album.id)
    assert Query(Photo).matches_query("album", this_album).count() == 1


def test_relation_to_a_second_class_is_refused():
    (p1,) = photos("photo")
    album = album_with(p1)
    other = Album(name="not a photo")
    other.save()
    stale = Album.create_without_data(album.id)
    stale.relation("photos").add(other)
    with pytest.raises(LeanCloudError):
        stale.save()
    assert titles(album.relation("photos").query) == ["photo"]


def test_unsaved_objects_cannot_be_related():
    album = Album(name="x")
    with pytest.raises((ValueError, TypeError)):
        album.relation("photos").add(Photo(title="unsaved"))
