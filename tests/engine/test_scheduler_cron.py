"""Cron expressions: checking, firing times in time zones (DST too), words."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import BadInput, Cron, describe_cron


def utc(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("expression, words", [
    ("0 2 * * *", "at 02:00 every day"),
    ("*/15 * * * *", "every 15 minutes"),
    ("* * * * *", "every minute"),
    ("30 9 * * 1-5", "at 09:30 on Monday through Friday"),
    ("0 9,17 * * MON,WED", "at 09:00 and 17:00 on Monday and Wednesday"),
    ("0 0 12 * * *", "at 12:00 every day"),
    ("*/10 * * * * *", "every 10 seconds"),
    ("0 */2 * * *", "every 2 hours"),
    ("5 * * * *", "every hour at minute 5"),
    ("5 4 1 * *", "at 04:05 on day 1 of every month"),
    ("0 0 1 1 *", "cron 0 0 1 1 *"),
])
def test_common_forms_are_described_in_words_and_others_fall_back(expression, words):
    assert describe_cron(expression) == words


@pytest.mark.parametrize("expression, fragment", [
    ("61 * * * *", "out of range"),
    ("* * *", "has 3"),
    ("", "has 0"),
    ("0 2 * * * * *", "has 7"),
    ("a b c d e", "invalid cron expression"),
])
def test_bad_expressions_raise_a_clear_error(expression, fragment):
    with pytest.raises(BadInput, match=fragment):
        Cron.parse(expression)


@pytest.mark.parametrize("expression, why", [
    ("0 0 31 2 *", "February has no 31st day"),
    ("0 0 30 2 *", "February has no 30th day"),
    ("0 0 30,31 2 *", "February has no 30th or 31st day"),
    ("0 0 31 4,6,9,11 *", "April, June, September and November have no 31st day"),
    ("15 0 0 31 FEB *", "February has no 31st day"),
])
def test_an_expression_that_never_fires_is_refused_naming_it_and_why(expression, why):
    with pytest.raises(BadInput) as refused:
        Cron.parse(expression, "Europe/Paris")
    assert str(refused.value) == f"cron expression {expression!r} never fires: {why}"


@pytest.mark.parametrize("expression, first", [
    ("0 0 29 2 *", "2028-02-29 00:00:00"),  # leap years only
    ("0 0 31 2 MON", "2027-02-01 00:00:00"),  # a day of the month or of the week, as cron reads both
    ("0 0 L 2 *", "2027-02-28 00:00:00"),
])
def test_rare_but_possible_dates_are_accepted(expression, first):
    assert iso(Cron.parse(expression).next(utc(2026, 6, 1), 1)[0]) == first


def test_unknown_time_zone_is_refused_with_an_example():
    with pytest.raises(BadInput, match="Europe/Paris"):
        Cron.parse("0 2 * * *", "Mars/Olympus")


def test_six_fields_put_seconds_first_like_windmill():
    cron = Cron.parse("30 0 12 * * *")
    assert [iso(t) for t in cron.next(utc(2024, 1, 1), 2)] == ["2024-01-01 12:00:30", "2024-01-02 12:00:30"]


def test_local_time_holds_across_spring_forward():
    cron = Cron.parse("0 2 * * *", "Europe/Berlin")
    times = [iso(t) for t in cron.next(utc(2024, 3, 29, 12), 4)]
    # 02:00 does not exist on 31 March: the firing moves to 03:00 CEST (01:00 UTC).
    assert times == ["2024-03-30 01:00:00", "2024-03-31 01:00:00", "2024-04-01 00:00:00", "2024-04-02 00:00:00"]


def test_fixed_hour_fires_once_when_clocks_go_back():
    cron = Cron.parse("30 2 * * *", "Europe/Berlin")
    times = [iso(t) for t in cron.next(utc(2024, 10, 26, 12), 3)]
    assert times == ["2024-10-27 00:30:00", "2024-10-28 01:30:00", "2024-10-29 01:30:00"]


def test_intervals_keep_real_time_spacing_when_clocks_go_back():
    cron = Cron.parse("0 * * * *", "Europe/Berlin")
    times = cron.between(utc(2024, 10, 26, 23, 30), utc(2024, 10, 27, 3, 0))
    assert [iso(t) for t in times] == ["2024-10-27 00:00:00", "2024-10-27 01:00:00",
                                       "2024-10-27 02:00:00", "2024-10-27 03:00:00"]


def test_time_zone_shifts_firings():
    new_york = Cron.parse("0 9 * * *", "America/New_York").next(utc(2024, 1, 10), 1)
    assert iso(new_york[0]) == "2024-01-10 14:00:00"


def test_latest_is_the_last_firing_at_or_before():
    cron = Cron.parse("0 * * * *")
    assert iso(cron.latest(utc(2024, 1, 1, 5, 30))) == "2024-01-01 05:00:00"
    assert iso(cron.latest(utc(2024, 1, 1, 5, 0))) == "2024-01-01 05:00:00"
