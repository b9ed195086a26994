"""Phones are stored in E.164 («+78800000000») and shown in the Russian format
(«+7 (880) 000-00-00»), so «8 (880) 000-00-00» and «+7 880 000-00-00» are one number."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

REGION = "RU"

# A Russian number in E.164 or in the usual written forms («+79123456789», «+7 (912) 345-67-89»,
# «+7 912 345 67 89»): ten national digits after +7, the first not 0. phonenumbers gives exactly these
# digits back for them, so normalize skips the parse (an import checks each phone twice: in the
# importer, then in the services' _validate). Anything else still goes through phonenumbers.
_RUSSIAN = re.compile(r"\+7 ?(?:\(([1-9][0-9]{2})\)|([1-9][0-9]{2})) ?([0-9]{3})[- ]?([0-9]{2})[- ]?([0-9]{2})")


def normalize(raw: str) -> str:
    """E.164 form of a phone typed in any usual format; '' for an empty value.
    Raises ValidationError with a Russian message for something that is not a phone."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if match := _RUSSIAN.fullmatch(raw):
        return "+7" + "".join(part for part in match.groups() if part)
    if re.search(r"[^\d\s()+\-.]", raw):
        raise ValidationError(_("Телефон может содержать только цифры, пробелы, скобки, «+» и «-»."), code="phone")
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Не похоже на номер телефона: «%(value)s»."), code="phone", params={"value": raw}) from exc
    # «Possible» (right length for the country), not «valid»: the seed's own example 8 (880) …
    # is in a range that libphonenumber does not list as assigned.
    wrong_russian_length = number.country_code == 7 and len(str(number.national_number)) != 10
    if wrong_russian_length or not phonenumbers.is_possible_number(number):
        raise ValidationError(
            _("Неверная длина номера «%(value)s»: для России нужно 11 цифр, например 8 (912) 345-67-89."),
            code="phone", params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


EXT_MAX_DIGITS = 10


def normalize_ext(raw: str) -> str:
    """A phone's extension («Доб.»): digits only, at most 10; '' for none. Raises ValidationError
    with a Russian message otherwise — «+7 952 266» is a second phone, not an extension."""
    raw = (raw or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= EXT_MAX_DIGITS):
        raise ValidationError(_("Добавочный номер — только цифры, не больше %(max)d."), code="ext",
                              params={"max": EXT_MAX_DIGITS})
    return raw


_RUSSIAN = re.compile(r"\+7([1-9]\d{2})(\d{3})(\d{2})(\d{2})")


def display(e164: str) -> str:
    if not e164:
        return ""
    # Most numbers are Russian: formatted straight from the digits (parsing one costs ~40 µs,
    # a list page shows fifty).
    russian = _RUSSIAN.fullmatch(e164)
    if russian:
        return "+7 ({}) {}-{}-{}".format(*russian.groups())
    try:
        number = phonenumbers.parse(e164, REGION)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 7:
        digits = str(number.national_number)
        if len(digits) == 10:
            return f"+7 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def search_digits(query: str) -> str | None:
    """The digits to look for in stored E.164 phones when a search box gets a phone in any
    format, or None when the query is not phone-like. A full Russian number matches on its
    10 national digits, so the leading 8 or +7 does not matter."""
    digits = re.sub(r"\D", "", query or "")
    if len(digits) < 5 or re.search(r"[^\d\s()+\-.]", query.strip()):
        return None
    if len(digits) == 11 and digits[0] in "78":
        return digits[1:]
    return digits
