import pytest
from django.core.exceptions import ValidationError

from crm import phones
from crm.duplicates import company_key
from crm.inn import is_valid, validate_inn


@pytest.mark.parametrize("inn", ["7707083893", "7736207543", "500100732259", "784806113663"])
def test_real_inns_pass_the_checksum(inn):
    assert is_valid(inn)
    validate_inn(inn)


@pytest.mark.parametrize(("inn", "message"), [
    ("7707083894", "контрольной суммы"),      # last digit of a 10-digit INN changed
    ("500100732258", "контрольной суммы"),    # 12-digit, second check digit wrong
    ("500100732249", "контрольной суммы"),    # 12-digit, first check digit wrong
    ("77070838", "10 цифр"),
    ("77070838931", "10 цифр"),
    ("77070A3893", "только из цифр"),
])
def test_bad_inns_get_a_clear_russian_message(inn, message):
    assert not is_valid(inn)
    with pytest.raises(ValidationError) as exc:
        validate_inn(inn)
    assert message in exc.value.messages[0]


def test_an_empty_inn_is_not_an_error():
    validate_inn("")


@pytest.mark.parametrize("raw", ["8 (880) 000-00-00", "+7 880 000-00-00", "88800000000", "+7(880)0000000",
                                 "7 880 000 00 00"])
def test_one_number_in_any_format_is_one_e164(raw):
    assert phones.normalize(raw) == "+78800000000"


def test_phones_are_shown_in_the_russian_format():
    assert phones.display("+78800000000") == "+7 (880) 000-00-00"
    assert phones.display("+79123199744") == "+7 (912) 319-97-44"
    assert phones.display("") == ""
    # The others as the phone library formats them.
    assert phones.display("+74950000000") == "+7 (495) 000-00-00"
    assert phones.display("+375291234567") == "+375 29 123-45-67"
    assert phones.display("не телефон") == "не телефон"


@pytest.mark.parametrize(("raw", "message"), [("12ab", "только цифры"), ("123", "Неверная длина"),
                                              ("8 (880) 000-00-00-00-00", "Неверная длина")])
def test_bad_phones_are_refused_in_russian(raw, message):
    with pytest.raises(ValidationError) as exc:
        phones.normalize(raw)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize(("query", "digits"), [("8 (880) 000-00-00", "8800000000"), ("+7 880 000", "7880000"),
                                               ("000-00", "00000"), ("Ромашка", None), ("12", None)])
def test_search_digits(query, digits):
    assert phones.search_digits(query) == digits


def test_company_key_ignores_legal_form_quotes_and_case():
    assert company_key("ООО «Ромашка»") == company_key('ромашка') == company_key('ООО "РОМАШКА"') == "ромашка"


@pytest.mark.parametrize("raw", [
    "+79123456789", "+7 (912) 345-67-89", "+7 912 345 67 89", "+7(343)0000001", "+7 812 3456789",
    "+7 (880) 000-00-00", "+7 (012) 345-67-89", "+70123456789", "+7 (912) 345-67-8", "+7 (912) 345-67-890",
    "+7 (912)  345-67-89", "+7 (9l2) 345-67-89", "+7 (٩12) 345-67-89",
])
def test_it_gives_a_written_russian_number_the_same_answer_as_phonenumbers(raw, monkeypatch):
    """The fast path for «+7 …» (no phonenumbers parse) must answer what the full parse answers:
    the same E.164, or the same refusal."""
    def answer():
        try:
            return phones.normalize(raw)
        except ValidationError as exc:
            return exc.messages

    fast = answer()
    monkeypatch.setattr(phones, "_RUSSIAN", phones.re.compile(r"(?!)"))  # never matches: always parse
    assert fast == answer()
