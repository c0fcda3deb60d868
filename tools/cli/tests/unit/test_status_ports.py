"""`mynumber status` looks where `make run` puts each service: the same base ports, moved by the same offset."""

from __future__ import annotations

from mynumber_cli import status
from mynumber_devstack.__main__ import SERVICES, service_ports


def test_status_uses_the_ports_the_launcher_gives_each_service():
    launched = {s.name: (s.grpc_port, s.metrics_port) for s in SERVICES}
    assert {s.name: (s.grpc_port, s.metrics_port) for s in status.SERVICES} == launched


def test_the_offset_moves_the_metrics_port_with_the_grpc_port_and_it_is_checked_before_start():
    numbering = next(s for s in SERVICES if s.name == "numbering")
    ports = {p.purpose: p.number for p in service_ports(numbering, 100, 7)}
    assert ports == {"numbering gRPC": 50151, "numbering metrics": 9551}


def test_counts_are_read_per_service_from_the_exposition():
    samples = [
        ("mynumber_notice_envelopes", {"state": "prepared"}, 3.0),
        ("mynumber_notice_envelopes", {"state": "posted"}, 2.0),
        ("mynumber_outbox_backlog", {"mynumber_service": "notice"}, 4.0),
        ("mynumber_outbox_backlog", {"mynumber_service": "numbering"}, 99.0),
        ("mynumber_consumer_pending", {"mynumber_service": "notice",
                                       "messaging_consumer_group_name": "notice-number-assigned"}, 7.0),
        ("mynumber_deadletters", {"mynumber_service": "notice",
                                  "messaging_consumer_group_name": "notice-number-assigned"}, 1.0),
        ("rpc_server_calls_total", {"rpc_grpc_status": "OK"}, 5.0),
        ("rpc_server_calls_total", {"rpc_grpc_status": "NOT_FOUND"}, 1.0),
    ]
    assert dict(status.report("notice", samples)) == {
        "envelopes": "posted 2, prepared 3", "outbox backlog": "4",
        "consumer backlog": "notice-number-assigned 7", "dead letters": "notice-number-assigned 1",
        "rpc calls": "6 (1 failed)"}
