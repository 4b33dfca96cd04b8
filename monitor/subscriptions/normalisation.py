"""Email addresses in the one form a subscriber is stored and recognised by.

The rules, applied by ``normalise_address``:

- surrounding blanks are trimmed;
- the address must be a plain ``local@domain`` (``email-validator``: no display name, no quoted
  local part, no IP literal; internationalised addresses are accepted);
- the domain is lower-cased (Unicode form, IDNA rules; ``xn--`` spellings become Unicode);
- the local part is Unicode-normalised (NFC) and its **ASCII letters are lower-cased**. RFC 5321
  allows a case-sensitive local part, but no mainstream provider treats one so, and one person
  must not hold two subscriptions by typing a capital once. Non-ASCII letters keep their case;
- nothing else changes: dots and ``+tags`` stay (``a.b@gmail.com`` and ``ab@gmail.com`` are
  two subscribers), because which providers ignore them is their business, not ours.

Applying the rules twice gives the same address as applying them once.
"""

from __future__ import annotations

import string

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS_LENGTH = 320
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


class AddressError(ValueError):
    """The text is not an email address a subscription can use; the message says why."""


def normalise_address(text: str) -> str:
    """Return ``text`` as the normalised address, or raise AddressError saying what is wrong."""
    candidate = text.strip()
    if not candidate:
        raise AddressError("enter an email address")
    if len(candidate) > MAX_ADDRESS_LENGTH:
        raise AddressError(f"an email address is at most {MAX_ADDRESS_LENGTH} characters")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise AddressError(str(error)) from None
    return f"{valid.local_part.translate(_ASCII_LOWER)}@{valid.domain}"
