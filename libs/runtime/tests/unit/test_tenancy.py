import pytest
from mynumber_runtime.errors import NotFound
from mynumber_runtime.identity import KINDS, Caller
from mynumber_runtime.tenancy import Basis, Holding, grant, prefecture_of


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


def test_same_prefecture_compares_the_two_prefecture_digits_and_no_more():
    # 八王子市 (132012) and 千代田区 (131016) are both 東京都 (13) but differ in the third digit; 札幌市 (01) and
    # 横浜市 (14) are of prefectures before and after 東京都.
    hachioji = Caller("municipality", "132012")
    assert prefecture_of("132012") == prefecture_of(CHIYODA) == "13"
    assert grant(hachioji, Holding(CHIYODA), permits={Basis.SAME_PREFECTURE}, unknown=unknown) is Basis.SAME_PREFECTURE
    for other in ("011002", YOKOHAMA):
        with pytest.raises(NotFound):
            grant(Caller("municipality", other), Holding(CHIYODA), permits={Basis.SAME_PREFECTURE}, unknown=unknown)


@pytest.mark.parametrize("caller", [Caller("municipality", CHIYODA), Caller("operator", "sre")])
def test_only_a_service_acts_on_a_service_role(caller):
    # A method that permits only SERVICE_ROLE (numbering's 符号 look-up) refuses every other kind of caller, the
    # person's own municipality included.
    with pytest.raises(NotFound):
        grant(caller, Holding(CHIYODA), permits={Basis.SERVICE_ROLE}, unknown=unknown)


@pytest.mark.parametrize("other", [CHIYODA, "132012"])  # one code below 中央区's (131024), one above
def test_residence_for_home_only_for_the_municipality_the_holding_names(other):
    holding = Holding(YOKOHAMA, acting_municipality=CHUO)
    assert grant(Caller("municipality", CHUO), holding, permits={Basis.RESIDENCE_FOR_HOME},
                 unknown=unknown) is Basis.RESIDENCE_FOR_HOME
    with pytest.raises(NotFound):
        grant(Caller("municipality", other), holding, permits={Basis.RESIDENCE_FOR_HOME}, unknown=unknown)


@pytest.mark.parametrize("other", [CHUO, "271004"])  # one code below 横浜市's (141003), one above
def test_tennyu_destination_only_for_the_destination_the_holding_names(other):
    holding = Holding(CHIYODA, moving_to=YOKOHAMA)
    with pytest.raises(NotFound):
        grant(Caller("municipality", other), holding, permits={Basis.TENNYU_DESTINATION}, unknown=unknown)


@pytest.mark.parametrize("kind", sorted(KINDS - {"municipality"}))  # "agency" sorts before it, the rest after
def test_a_register_basis_is_only_for_a_municipality_caller_even_one_whose_id_looks_like_a_code(kind):
    # The municipality bases compare the caller's id with the holding's codes: only a municipality's id is one.
    caller = Caller(kind, CHIYODA)
    moving = Holding(CHIYODA, moving_to=CHIYODA, acting_municipality=CHIYODA)
    with pytest.raises(NotFound):
        grant(caller, moving, permits={Basis.OWN_REGISTER, Basis.TENNYU_DESTINATION, Basis.RESIDENCE_FOR_HOME,
                                       Basis.SAME_PREFECTURE}, unknown=unknown)
