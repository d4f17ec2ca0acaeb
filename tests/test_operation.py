"""Field operations: wire forms, local estimates, and the merge table of rest-api.md §3.3."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leancloud import Object, operation
from leancloud.operation import (
    Add,
    AddUnique,
    BitAnd,
    BitOr,
    BitXor,
    Increment,
    Remove,
    Set,
    Unset,
)


class Track(Object):
    pass


def saved(object_id):
    return Track.create_without_data(object_id)


def test_dumps():
    assert Set(5).dump() == 5
    assert Unset().dump() == {"__op": "Delete"}
    assert Increment(-2).dump() == {"__op": "Increment", "amount": -2}
    assert Add([1, "a"]).dump() == {"__op": "Add", "objects": [1, "a"]}
    assert AddUnique([1, 1, 2]).dump() == {"__op": "AddUnique", "objects": [1, 2]}
    assert Remove([{"a": 1}]).dump() == {"__op": "Remove", "objects": [{"a": 1}]}
    assert BitAnd(6).dump() == {"__op": "BitAnd", "value": 6}
    assert BitOr(6).dump() == {"__op": "BitOr", "value": 6}
    assert BitXor(6).dump() == {"__op": "BitXor", "value": 6}


def test_values_are_encoded_in_dumps():
    track = saved("t1")
    pointer = {"__type": "Pointer", "className": "Track", "objectId": "t1"}
    assert Set(track).dump() == pointer
    assert Add([track]).dump() == {"__op": "Add", "objects": [pointer]}


@pytest.mark.parametrize(
    "make",
    [
        lambda: Increment("1"),
        lambda: Increment(True),
        lambda: BitAnd(1.5),
        lambda: BitOr(True),
        lambda: Add(1),
    ],
)
def test_bad_arguments_raise_type_error(make):
    with pytest.raises(TypeError):
        make()


@pytest.mark.parametrize(
    "previous, new, expected",
    [
        # nothing pending
        (None, Increment(2), {"__op": "Increment", "amount": 2}),
        (None, Remove([1]), {"__op": "Remove", "objects": [1]}),
        # Set(p) then op -> Set(op applied to p)
        (Set(5), Increment(2), 7),
        (Set([1]), Add([2, 1]), [1, 2, 1]),
        (Set([1]), AddUnique([2, 1]), [1, 2]),
        (Set([1, 2, 1]), Remove([1]), [2]),
        (Set(6), BitAnd(3), 2),
        (Set(6), BitOr(1), 7),
        (Set(6), BitXor(2), 4),
        # Delete then op
        (Unset(), Increment(3), 3),
        (Unset(), Add([1]), [1]),
        (Unset(), AddUnique([1, 1]), [1]),
        (Unset(), Remove([1]), {"__op": "Delete"}),
        (Unset(), BitAnd(5), 0),
        (Unset(), BitOr(5), 5),
        (Unset(), BitXor(5), 5),
        # same op twice
        (Increment(2), Increment(-5), {"__op": "Increment", "amount": -3}),
        (Add([1]), Add([1, 2]), {"__op": "Add", "objects": [1, 1, 2]}),
        (AddUnique([1]), AddUnique([2, 1]), {"__op": "AddUnique", "objects": [1, 2]}),
        (Remove([1]), Remove([2, 1]), {"__op": "Remove", "objects": [1, 2]}),
        (BitAnd(6), BitAnd(3), {"__op": "BitAnd", "value": 2}),
        (BitOr(4), BitOr(1), {"__op": "BitOr", "value": 5}),
        (BitXor(6), BitXor(3), {"__op": "BitXor", "value": 5}),
        # mixed bit ops that still are one bit op
        (BitOr(2), BitAnd(5), {"__op": "BitAnd", "value": 5}),
        (BitAnd(-1), BitOr(4), {"__op": "BitOr", "value": 4}),
        (BitXor(1), BitAnd(6), {"__op": "BitAnd", "value": 6}),
        (BitOr(1), BitXor(1), {"__op": "BitAnd", "value": ~1}),
        # Set and Delete replace anything
        (Increment(1), Set(0), 0),
        (Add([1]), Unset(), {"__op": "Delete"}),
        (BitXor(1), Set("x"), "x"),
    ],
)
def test_merge_table(previous, new, expected):
    assert new._merge(previous).dump() == expected


@pytest.mark.parametrize(
    "previous, new",
    [
        (Increment(1), Add([1])),
        (Add([1]), Increment(1)),
        (Add([1]), AddUnique([1])),
        (AddUnique([1]), Remove([1])),
        (Remove([1]), Add([1])),
        (Increment(1), BitAnd(1)),
        (BitOr(1), Increment(1)),
        (BitAnd(6), BitOr(1)),
        (BitXor(1), BitOr(2)),
        (BitAnd(6), BitXor(1)),
    ],
)
def test_unmergeable_pairs_raise_value_error(previous, new):
    with pytest.raises(ValueError, match="save") as info:
        new._merge(previous)
    # Code written for the official SDK catches its TypeError('invalid op').
    assert isinstance(info.value, TypeError)


def test_relation_ops_merge_and_dump():
    a, b, c = saved("a"), saved("b"), saved("c")
    first = operation.Relation(adds=[a, b], removes=[c])
    second = operation.Relation(adds=[c], removes=[b])
    merged = second._merge(first)

    def pointer(object_id):
        return {"__type": "Pointer", "className": "Track", "objectId": object_id}

    assert merged.dump() == {
        "__op": "Batch",
        "ops": [
            {"__op": "AddRelation", "objects": [pointer("a"), pointer("c")]},
            {"__op": "RemoveRelation", "objects": [pointer("b")]},
        ],
    }
    assert operation.Relation(adds=[a]).dump() == {"__op": "AddRelation", "objects": [pointer("a")]}
    assert operation.Relation(removes=[a]).dump() == {
        "__op": "RemoveRelation",
        "objects": [pointer("a")],
    }
    assert operation.Relation().dump() == {}
    assert [o.id for o in merged.added] == ["a", "c"]
    assert [(type(o), o.id) for o in merged.removed] == [(Track, "b")]
    assert operation.Relation().added == []


def test_relation_op_refusals():
    with pytest.raises(TypeError, match="unsaved"):
        operation.Relation(adds=[Track()])
    with pytest.raises(TypeError, match="one class"):
        operation.Relation(adds=[saved("a"), Object.extend("Other").create_without_data("b")])
    with pytest.raises(ValueError, match="deleting"):
        operation.Relation(adds=[saved("a")])._merge(Unset())
    with pytest.raises(ValueError):
        operation.Relation(adds=[saved("a")])._merge(Set(1))


def test_array_ops_compare_saved_objects_by_pointer():
    old = [saved("a"), saved("b")]
    assert [o.id for o in Remove([saved("a")])._apply(old)] == ["b"]
    assert len(AddUnique([saved("b")])._apply(old)) == 2


def test_estimates_of_missing_fields():
    missing = operation._UNSET
    assert Increment(4)._apply(missing) == 4
    assert Add([1])._apply(None) == [1]
    assert Remove([1])._apply(missing) is missing  # the server leaves a missing field missing
    assert Remove([1])._apply(None) == []
    assert BitAnd(7)._apply(missing) == 0
    assert BitOr(7)._apply(None) == 7
    with pytest.raises(TypeError):
        Add([1])._apply("not a list")
    with pytest.raises(TypeError):
        Increment(1)._apply("1")


_BIT_OPS = st.sampled_from([BitAnd, BitOr, BitXor])
_INTS = st.integers(min_value=-(2**64), max_value=2**64)


@given(first=_BIT_OPS, a=_INTS, second=_BIT_OPS, b=_INTS, x=_INTS)
def test_bit_merges_are_exact(first, a, second, b, x):
    """A merged bit op equals the two ops in sequence on every value, or it is refused."""
    op1, op2 = first(a), second(b)
    expected = op2._apply(op1._apply(x))
    try:
        merged = op2._merge(op1)
    except ValueError:
        # Refused only when no single op fits: check the per-bit map has no such form.
        mask, flip = (
            op1._affine()[0] & op2._affine()[0],
            (op1._affine()[1] & op2._affine()[0]) ^ op2._affine()[1],
        )
        assert flip != 0 and mask != -1 and mask != ~flip
        return
    assert merged._apply(x) == expected


@given(a=_INTS, b=_INTS)
def test_same_bit_ops_always_merge(a, b):
    assert BitAnd(b)._merge(BitAnd(a)).dump() == {"__op": "BitAnd", "value": a & b}
    assert BitOr(b)._merge(BitOr(a)).dump() == {"__op": "BitOr", "value": a | b}
    assert BitXor(b)._merge(BitXor(a)).dump() == {"__op": "BitXor", "value": a ^ b}


_LIST_ITEMS = st.integers(min_value=0, max_value=4)
_GENERIC_OPS = st.one_of(
    st.builds(Set, st.lists(_LIST_ITEMS, max_size=3)),
    st.just(Unset()),
    st.builds(Add, st.lists(_LIST_ITEMS, max_size=3)),
    st.builds(AddUnique, st.lists(_LIST_ITEMS, max_size=3)),
    st.builds(Remove, st.lists(_LIST_ITEMS, max_size=3)),
)
_NUMBER_OPS = st.one_of(
    st.builds(Set, st.integers(-50, 50)),
    st.just(Unset()),
    st.builds(Increment, st.integers(-50, 50)),
    st.builds(BitAnd, st.integers(-50, 50)),
    st.builds(BitOr, st.integers(-50, 50)),
    st.builds(BitXor, st.integers(-50, 50)),
)


def _check_merged_equals_sequence(initial, ops):
    """Merging ops as an Object does must mean what applying them one by one means."""
    pending, value = None, initial
    for op in ops:
        try:
            merged = op._merge(pending)
        except ValueError:
            return  # refused: the app has to save in between
        pending, value = merged, op._apply(value)
        assert pending._apply(initial) == value


@given(
    st.one_of(st.just(operation._UNSET), st.lists(_LIST_ITEMS, max_size=4)),
    st.lists(_GENERIC_OPS, max_size=5),
)
def test_merged_array_ops_equal_the_sequence(initial, ops):
    _check_merged_equals_sequence(initial, ops)


@given(
    st.one_of(st.just(operation._UNSET), st.integers(-100, 100)), st.lists(_NUMBER_OPS, max_size=5)
)
def test_merged_number_ops_equal_the_sequence(initial, ops):
    _check_merged_equals_sequence(initial, ops)
