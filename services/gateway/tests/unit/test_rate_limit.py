"""The per-client token bucket, on a fake monotonic clock: bursts, refill, Retry-After, limits by kind and by
identity, the division among replicas."""

from __future__ import annotations

import pytest
from gateway.ratelimit import RateLimiter, TokenBucket, metric_labels, retry_after
from gateway.settings import Limit, RateLimitSettings
from mynumber_runtime.identity import Caller
from pydantic import ValidationError

CHIYODA = Caller("municipality", "131016")
OSAKA = Caller("municipality", "271004")
TERMINAL = Caller("store-terminal", "7-11-000123")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def limiter(clock: FakeClock, **settings: object) -> RateLimiter:
    return RateLimiter(RateLimitSettings(**settings), monotonic=clock)  # type: ignore[arg-type]


def test_a_full_bucket_admits_its_burst_then_refuses_with_the_wait_for_one_token() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3.0, tokens=3.0, at=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.25) == pytest.approx(0.25)  # half a token back, half a token still to come
    assert bucket.take(0.5) == 0.0


def test_an_idle_bucket_refills_to_its_capacity_and_no_more() -> None:
    bucket = TokenBucket(rate=10.0, capacity=5.0, tokens=0.0, at=0.0)
    admitted = sum(bucket.take(3600.0) == 0.0 for _ in range(20))
    assert admitted == 5


def test_a_clock_that_steps_back_takes_nothing_away() -> None:
    bucket = TokenBucket(rate=1.0, capacity=2.0, tokens=1.0, at=10.0)
    assert bucket.take(5.0) == 0.0
    assert bucket.take(5.0) > 0


def test_one_municipalitys_burst_leaves_another_municipality_its_own_bucket() -> None:
    clock = FakeClock()
    rl = limiter(clock, kinds={"municipality": Limit(rate_per_s=1, burst=5)})
    assert [rl.admit(CHIYODA) for _ in range(5)] == [0.0] * 5
    assert rl.admit(CHIYODA) == pytest.approx(1.0)
    assert rl.admit(OSAKA) == 0.0
    clock.t += 1.0
    assert rl.admit(CHIYODA) == 0.0 and rl.admit(CHIYODA) > 0


def test_limits_come_by_kind_with_an_override_per_identity_and_a_default_for_other_kinds() -> None:
    rl = limiter(FakeClock(), kinds={"municipality": Limit(rate_per_s=1, burst=2)},
                 overrides={"municipality:271004": Limit(rate_per_s=50, burst=100)},
                 other=Limit(rate_per_s=1, burst=3))
    assert sum(rl.admit(CHIYODA) == 0 for _ in range(10)) == 2
    assert sum(rl.admit(OSAKA) == 0 for _ in range(200)) == 100
    assert sum(rl.admit(TERMINAL) == 0 for _ in range(10)) == 3
    assert sum(rl.admit(Caller("agency", "x")) == 0 for _ in range(10)) == 3


def test_each_replica_grants_its_share_of_the_platforms_limit() -> None:
    clock = FakeClock()
    rl = limiter(clock, replicas=4, kinds={"municipality": Limit(rate_per_s=8, burst=40)})
    assert sum(rl.admit(CHIYODA) == 0 for _ in range(40)) == 10
    assert rl.admit(CHIYODA) == pytest.approx(0.5)  # 2 tokens per second here
    assert limiter(clock, replicas=4, kinds={"municipality": Limit(rate_per_s=1, burst=1)}).admit(CHIYODA) == 0


def test_a_disabled_limit_admits_everything() -> None:
    rl = limiter(FakeClock(), enabled=False, kinds={"municipality": Limit(rate_per_s=1, burst=1)})
    assert all(rl.admit(CHIYODA) == 0 for _ in range(100))


def test_idle_buckets_are_forgotten_only_once_full_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.ratelimit._SWEEP_ABOVE", 3)
    clock = FakeClock()
    rl = limiter(clock, kinds={"store-terminal": Limit(rate_per_s=1, burst=2)})
    for i in range(3):
        rl.admit(Caller("store-terminal", f"t{i}"))
    rl.admit(Caller("store-terminal", "t3"))  # none full yet: nothing forgotten
    assert len(rl.buckets) == 4
    clock.t += 1.0
    rl.admit(Caller("store-terminal", "t4"))
    assert sorted(rl.buckets) == ["store-terminal:t4"]


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after(w) for w in (0.001, 0.5, 1.0, 1.2, 30.0)] == ["1", "1", "1", "2", "30"]


def test_the_metric_names_a_municipality_by_its_code_and_nobody_else_by_id() -> None:
    assert metric_labels(CHIYODA) == {"caller_kind": "municipality", "municipality": "131016"}
    assert metric_labels(Caller("operator", "sre-tanaka")) == {"caller_kind": "operator"}
    assert metric_labels(TERMINAL) == {"caller_kind": "store-terminal"}


@pytest.mark.parametrize("bad", [{"kinds": {"citizen": {"rate_per_s": 1, "burst": 1}}},
                                 {"overrides": {"131016": {"rate_per_s": 1, "burst": 1}}},
                                 {"other": {"rate_per_s": 0, "burst": 1}},
                                 {"other": {"rate_per_s": 1, "burst": 0}}])
def test_a_limit_that_names_no_caller_or_admits_nothing_is_refused_at_start(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RateLimitSettings(**bad)  # type: ignore[arg-type]
