"""Many threads writing one object through the SDK at once: the server loses no operation."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from leancloud import LeanCloudError, Object, Query

from .conftest import fresh

Counter = Object.extend("Counter")

THREADS = 8
PER_THREAD = 25

pytestmark = pytest.mark.usefixtures("live")


def run_in_threads(work):
    """``work(thread_index)`` on THREADS threads at once; their results, in thread order.
    Re-raises the first failure."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return [future.result() for future in [pool.submit(work, i) for i in range(THREADS)]]


def outcome(save):
    """Either "ok" or the code of the LeanCloudError that ``save()`` raised."""
    try:
        save()
    except LeanCloudError as error:
        return error.code
    return "ok"


def test_concurrent_increments_lose_nothing():
    counter = Counter(hits=0, total=0.0)
    counter.save()

    def work(i):
        mine = Counter.create_without_data(counter.id)  # each thread its own instance
        for _ in range(PER_THREAD):
            mine.increment("hits")
            mine.increment("total", 0.5)
            mine.save()

    run_in_threads(work)
    server = fresh(counter)
    assert server.get("hits") == THREADS * PER_THREAD
    assert server.get("total") == THREADS * PER_THREAD * 0.5


def test_concurrent_add_unique_of_distinct_values_loses_none():
    bag = Counter(items=["seed"])
    bag.save()

    def work(i):
        mine = Counter.create_without_data(bag.id)
        for j in range(PER_THREAD // 2):
            mine.add_unique("items", f"t{i}-{j}")
            mine.add_unique("items", "seed")  # already there: never duplicated
            mine.save()

    run_in_threads(work)
    items = fresh(bag).get("items")
    expected = {f"t{i}-{j}" for i in range(THREADS) for j in range(PER_THREAD // 2)}
    assert sorted(items) == sorted(expected | {"seed"})


def test_concurrent_fetch_when_save_sees_a_distinct_value_each_time():
    """Each save's answer is the counter right after that save: all different, none lost."""
    counter = Counter(tickets=0)
    counter.save()
    seen = [[] for _ in range(THREADS)]

    def work(i):
        mine = Counter.create_without_data(counter.id)
        for _ in range(PER_THREAD // 5):
            mine.increment("tickets")
            mine.save(fetch_when_save=True)
            seen[i].append(mine.get("tickets"))

    run_in_threads(work)
    numbers = [n for per_thread in seen for n in per_thread]
    assert sorted(numbers) == list(range(1, THREADS * (PER_THREAD // 5) + 1))


def test_concurrent_conditional_withdrawals_never_overdraw():
    account = Counter(balance=50)
    account.save()
    enough = Query(Counter).greater_than_or_equal_to("balance", 10)

    def work(i):
        mine = Counter.create_without_data(account.id)
        mine.increment("balance", -10)
        return outcome(lambda: mine.save(where=enough))

    results = run_in_threads(work)
    assert sorted(results, key=str) == [305] * 3 + ["ok"] * 5
    assert fresh(account).get("balance") == 0


def test_concurrent_first_saves_to_a_new_class_agree_on_one_type():
    """Half the threads store a number, half a string, in a field no class has yet:
    one type wins, every other save is a clean 111, and nothing half-written is left."""
    new_class = Object.extend("Fresh" + uuid.uuid4().hex[:12])
    start = threading.Barrier(THREADS)

    def work(i):
        obj = new_class(value=i if i % 2 else f"s{i}", **{f"only_{i}": i})
        start.wait()
        return outcome(obj.save)

    results = run_in_threads(work)
    winners = {i % 2 for i, result in enumerate(results) if result == "ok"}
    assert len(winners) == 1
    assert [r for i, r in enumerate(results) if i % 2 not in winners] == [111] * (THREADS // 2)
    assert Query(new_class).count() == THREADS // 2
