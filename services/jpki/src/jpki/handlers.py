"""The event boundary: the resident register's facts_changed event, handled inside the idempotent consumer's
transaction (the consumer records the event id in it), so the handler wraps that connection in the CA store and
opens no unit of its own."""

from __future__ import annotations

from mynumber.resident.v1 import events_pb2 as rev
from mynumber_runtime.consumer import Handler
from nats.aio.msg import Msg

from jpki.events import ResidentEventSealer, read_facts_changed
from jpki.repository import CaStore, Connection
from jpki.revocation import Revocation

ACTOR = "event:resident.facts_changed"


def facts_changed_handler(revocation: Revocation, sealer: ResidentEventSealer) -> Handler:
    """The IdempotentConsumer handler: revoke the resident's 署名用 certificate in the consumer's transaction.

    Tenancy: no `grant` here. The law revokes the 署名用 certificate on any change of the 4 facts, whichever
    register records it (a 転入 is recorded by the new municipality, not the one named in the certificate), and
    the producer is the platform's resident side, authenticated by its NATS user's publish permissions; the
    recording municipality is audited.

    An event that cannot be read (events.read_facts_changed) raises PoisonFactsChanged: the consumer parks it in
    the dead-letter stream with the reason instead of retrying what can never succeed, and nothing is revoked.
    """

    async def handle(conn: Connection, msg: Msg) -> None:
        store = CaStore(conn)
        at = revocation.authorities.now()
        event, resident_code = read_facts_changed(msg.data, sealer)
        revoked = await revocation.facts_changed(store, resident_code, actor=ACTOR)
        await store.audit(at=at, actor=ACTOR, action="event.handled", subject_ref=event.change_id,
                          details={"revoked": [format(s.serial, "x") for s in revoked],
                                   "municipality_code": event.municipality_code,
                                   "facts": [rev.Fact.Name(f) for f in event.changed_facts]})

    return handle
