"""The words `mynumber notice` accepts and prints are notice's state values (notice.states), through the proto
enums: the CLI reads them off notice.proto, so a state added to the API shows up here by itself, and a word the
service would not store fails here."""

from __future__ import annotations

from click.testing import CliRunner
from mynumber.notice.v1 import notice_pb2 as pb
from mynumber_cli import notice_cmds as n
from mynumber_cli.main import cli
from notice import states


def test_the_cli_words_are_the_states_values():
    assert list(n.FINDINGS) == states.values(states.Finding)
    assert list(n.MOVES) == states.values(states.MoveKind)
    assert list(n.PREFERENCES) == states.values(states.Preference)
    assert list(n.RESIDENCE_SOURCES) == states.values(states.ResidenceSource)
    assert list(n.REISSUE_REASONS) == states.values(states.ReissueReason)
    assert list(n.RETURN_REASONS) == states.values(states.ReturnReason)
    assert list(n.MAIL_ACTIONS.values()) == states.values(states.MailAction)
    assert list(n.MAILING_STATUSES.values()) == states.values(states.MailingStatus)
    assert list(n.MAILING_KINDS.values()) == states.values(states.MailingKind)
    # A DV victim's 居所 is a plain residence on the wire: the CLI never sees residence_restricted.
    assert list(n.DESTINATIONS.values()) == ["address", "residence", "office"]
    assert list(n.PRINT_STATUSES) == ["printed", "posted"]


def test_the_words_map_to_their_proto_values():
    assert n.MOVES["tenkyo"] == pb.MOVE_KIND_TENKYO and n.FINDINGS["moved_within"] == pb.FINDING_MOVED_WITHIN
    assert n.RETURN_REASONS["受取拒否"] == pb.RETURN_REASON_REFUSED
    # 受取り拒否 (the seed's chart ②) is accepted as the same reason and printed as the stored word.
    assert n.RETURN_REASON_WORDS["受取り拒否"] == n.RETURN_REASON_WORDS["受取拒否"] == pb.RETURN_REASON_REFUSED
    assert n.word(n.RETURN_REASON_NAMES, pb.RETURN_REASON_REFUSED) == "受取拒否"
    assert n.word(n.MAILING_STATUSES, pb.MAILING_STATUS_RETURNED) == "returned"
    assert n.word(n.MAILING_STATUSES, pb.MAILING_STATUS_UNSPECIFIED) == ""
    assert n.word(n.MAILING_STATUSES, 999) == "?"  # a state a newer server knows


def test_the_help_lists_the_choices():
    out = CliRunner().invoke(cli, ["notice", "move", "--help"]).output
    assert "tenkyo|tenshutsu|tennyu" in out and "endorse or new_issue" in out
    out = "".join(CliRunner().invoke(cli, ["notice", "resolve", "--help"]).output.split())  # click wraps mid-word
    assert "collected_at_counter|municipal_resend|moved_within|moved_out|deleted" in out
