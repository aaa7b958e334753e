"""Each session's labels in order: an answer that ends after a later one of its session was shown is not shown."""

import threading

from resnet.newest import Tickets


def test_a_label_that_ends_after_a_later_one_was_shown_is_not_shown():
    order = Tickets()
    first, second, third = (order.take("tab") for _ in range(3))
    assert first < second < third
    assert order.deliver("tab", second)  # the second ended first: shown
    assert not order.deliver("tab", first)  # the first ended after it: would put an older input back
    assert order.deliver("tab", third)  # the third, later again: shown


def test_labels_that_end_in_order_are_all_shown_and_sessions_do_not_meet():
    order = Tickets()
    tickets = [order.take("a") for _ in range(3)]
    other = order.take("b")  # another tab's numbering is its own
    assert [order.deliver("a", t) for t in tickets] == [True] * 3
    assert other == 1 and order.deliver("b", other)


def test_a_closed_or_forgotten_tab_starts_again_and_hides_nothing():
    order = Tickets(max_age_s=3600, most=2)
    old = order.take("tab")
    order.deliver("tab", order.take("tab"))
    order.forget("tab")
    assert order.deliver("tab", old)  # nothing shown since: an old answer still counts as the newest
    order.take("x"), order.take("y"), order.take("z")  # at most two sessions kept: "x" is forgotten
    assert order.take("x") == 1


def test_tickets_from_many_threads_are_all_distinct():
    order, taken = Tickets(), []
    lock = threading.Lock()

    def take_many():
        mine = [order.take("tab") for _ in range(2000)]
        with lock:
            taken.extend(mine)

    threads = [threading.Thread(target=take_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == list(range(1, 8001))


def test_new_inputs_keep_an_order_of_their_own():
    """What only new inputs write follows their order alone (``app.newest_only`` keeps a second ``Tickets``)."""
    answers, new_inputs = Tickets(), Tickets()
    stroke, stroke_writes = answers.take("tab"), new_inputs.take("tab")
    lesion = answers.take("tab")  # a later label that writes no source
    assert answers.deliver("tab", lesion)
    assert not answers.deliver("tab", stroke) and new_inputs.deliver("tab", stroke_writes)
    answers.forget("tab")
    assert answers.take("tab") == 1 and new_inputs.take("tab") == 2
