import pytest
from mynumber_runtime.errors import NotFound
from mynumber_runtime.identity import Caller
from mynumber_runtime.tenancy import Basis, Holding, grant


def unknown() -> NotFound:
    return NotFound("resident_code: unknown", reason="UNKNOWN_RESIDENT")


CHIYODA, CHUO, YOKOHAMA = "131016", "131024", "141003"


def test_the_holding_municipality_acts_on_its_own_register():
    assert grant(Caller("municipality", CHIYODA), Holding(CHIYODA), unknown=unknown) is Basis.OWN_REGISTER


def test_another_municipality_gets_the_same_error_as_for_nobody():
    with pytest.raises(NotFound) as theirs:
        grant(Caller("municipality", CHUO), Holding(CHIYODA), unknown=unknown)
    with pytest.raises(NotFound) as nobody:
        grant(Caller("municipality", CHUO), None, unknown=unknown)
    assert (theirs.value.message, theirs.value.reason) == (nobody.value.message, nobody.value.reason)


def test_same_prefecture_only_where_the_method_names_30_10():
    c = Caller("municipality", CHUO)
    assert grant(c, Holding(CHIYODA), permits={Basis.OWN_REGISTER, Basis.SAME_PREFECTURE},
                 unknown=unknown) is Basis.SAME_PREFECTURE
    with pytest.raises(NotFound):
        grant(Caller("municipality", YOKOHAMA), Holding(CHIYODA),
              permits={Basis.OWN_REGISTER, Basis.SAME_PREFECTURE}, unknown=unknown)


def test_tennyu_destination_and_residence_municipality_only_when_permitted():
    moving = Holding(CHIYODA, moving_to=YOKOHAMA, acting_municipality=CHUO)
    with pytest.raises(NotFound):
        grant(Caller("municipality", YOKOHAMA), moving, unknown=unknown)
    assert grant(Caller("municipality", YOKOHAMA), moving, permits={Basis.TENNYU_DESTINATION},
                 unknown=unknown) is Basis.TENNYU_DESTINATION
    assert grant(Caller("municipality", CHUO), moving, permits={Basis.RESIDENCE_FOR_HOME},
                 unknown=unknown) is Basis.RESIDENCE_FOR_HOME


def test_operators_and_services_only_on_methods_that_name_them():
    for caller, basis in ((Caller("operator", "sre"), Basis.OPERATOR), (Caller("service", "issuance"),
                                                                         Basis.SERVICE_ROLE)):
        with pytest.raises(NotFound):
            grant(caller, Holding(CHIYODA), unknown=unknown)
        assert grant(caller, Holding(CHIYODA), permits={basis}, unknown=unknown) is basis
