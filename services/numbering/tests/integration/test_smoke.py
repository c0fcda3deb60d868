from mynumber.numbering.v1 import numbering_pb2 as pb
from numbering.codes import ResidentCodeRule
from stdnum.jp import in_

from .conftest import MUNICIPALITY


async def test_assign_returns_a_valid_number_and_repeats_it(numbering):
    stub = numbering.stub()
    code = ResidentCodeRule().make("1234567890")
    first = await stub.AssignNumber(pb.AssignNumberRequest(municipality_code=MUNICIPALITY, resident_code=code))
    again = await stub.AssignNumber(pb.AssignNumberRequest(municipality_code=MUNICIPALITY, resident_code=code))
    assert in_.is_valid(first.individual_number)
    assert first.newly_assigned and not again.newly_assigned
    assert again.individual_number == first.individual_number
