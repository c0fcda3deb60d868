"""`make run` starts the gateway: HTTPS on 127.0.0.1 at 8443 + the HTTP offset, calling numbering where numbering
listens under the same port offset, its gRPC port (health only) and metrics moved like every service's."""

from __future__ import annotations

from pathlib import Path

from mynumber_devstack.__main__ import SERVICES, gateway_port, service_ports


def test_the_gateway_serves_https_on_loopback_and_calls_its_services_under_the_offset() -> None:
    gateway = next(s for s in SERVICES if s.name == "gateway")
    env = {k: gateway.fill(v, Path("/data"), 100, 7) for k, v in gateway.extra_env}
    assert env == {"GATEWAY_HTTPS__LISTEN_HOST": "127.0.0.1", "GATEWAY_HTTPS__LISTEN_PORT": "8543",
                   "GATEWAY_NUMBERING__TARGET": "127.0.0.1:50058", "GATEWAY_ISSUANCE__TARGET": "127.0.0.1:50062",
                   "GATEWAY_NOTICE__TARGET": "127.0.0.1:50060"}
    assert gateway_port(100) == 8543
    assert [p.number for p in service_ports(gateway, 7, 100)] == [50063, 8543, 9463]


def test_no_two_services_share_a_port() -> None:
    ports = [p.number for s in SERVICES for p in service_ports(s, 0, 0)]
    assert len(ports) == len(set(ports))
