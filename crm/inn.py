"""ИНН (taxpayer number) checksums: 10 digits for organisations, 12 for individuals."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    d = [int(c) for c in value]
    if len(d) == 10:
        return _check(d, _W10) == d[9]
    return _check(d, _W12_1) == d[10] and _check(d, _W12_2) == d[11]


def validate_inn(value: str) -> None:
    value = (value or "").strip()
    if not value:
        return
    if not value.isdigit():
        raise ValidationError(_("ИНН состоит только из цифр."), code="inn")
    if len(value) not in (10, 12):
        raise ValidationError(
            _("ИНН должен содержать 10 цифр (организация) или 12 цифр (ИП), а введено %(n)s."),
            code="inn", params={"n": len(value)},
        )
    if not is_valid(value):
        raise ValidationError(_("ИНН %(value)s не проходит проверку контрольной суммы: проверьте цифры."),
                              code="inn", params={"value": value})
