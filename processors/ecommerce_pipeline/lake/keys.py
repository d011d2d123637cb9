"""The Fernet keys the lake tools read from the settings, and names derived from them that reveal nothing.

Keys come only from variables (FERNET_KEYS, NEW_FERNET_KEYS), never from the command line. A
key's id and a customer's digest are HMAC-SHA256 values under the key: stable names for
journals in the bucket, from which neither the key nor the customer can be read back.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass

from ..exit_codes import ConfigurationMissing
from ..fernet_tokens import InvalidKeyList, KeyRing, parse_keys
from ..settings import MissingSetting, require

KEYS_VARIABLE = "FERNET_KEYS"
NEW_KEYS_VARIABLE = "NEW_FERNET_KEYS"


def key_texts(settings: dict[str, str], variable: str, *, required: bool = True) -> list[str] | None:
    """The keys of a comma-separated list variable, newest first, checked; None when unset and not required."""
    if not required and not settings.get(variable, "").strip():
        return None
    try:
        text = require(settings, variable)
        parse_keys(text, variable)
    except (MissingSetting, InvalidKeyList) as error:
        raise ConfigurationMissing(str(error)) from None
    return [part.strip() for part in text.split(",")]


def ring(texts: list[str], source: str) -> KeyRing:
    return parse_keys(",".join(texts), source)


def key_id(text: str) -> str:
    """A key's public name: 16 hex digits of HMAC-SHA256 under the key of a fixed label."""
    return hmac.new(base64.urlsafe_b64decode(text), b"ecommerce-pipeline key id", hashlib.sha256).hexdigest()[:16]


def customer_digest(key_text: str, customer_id: str) -> str:
    """A customer's name for a journal: HMAC-SHA256 under a Fernet key, unreadable without the key."""
    return hmac.new(base64.urlsafe_b64decode(key_text), b"erasure\0" + customer_id.encode(),
                    hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class RotationKeys:
    """Rotation's keys: the target (the newest of NEW_FERNET_KEYS) and every key that opens the lake now."""

    target_text: str
    # Every key of both lists once, the target last: what is rotated is under an older key, and a
    # key ring tries its keys in order.
    opening_texts: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: dict[str, str]) -> "RotationKeys":
        new = key_texts(settings, NEW_KEYS_VARIABLE)
        old = key_texts(settings, KEYS_VARIABLE, required=False) or []
        return cls(new[0], tuple(key for key in dict.fromkeys(old + new[1:] + new[:1])))

    @property
    def target(self) -> KeyRing:
        return ring([self.target_text], f"{NEW_KEYS_VARIABLE} (its first key)")

    @property
    def opening(self) -> KeyRing:
        return ring(list(self.opening_texts), f"{NEW_KEYS_VARIABLE} and {KEYS_VARIABLE}")

    @property
    def target_id(self) -> str:
        return key_id(self.target_text)

    def __repr__(self) -> str:
        return f"RotationKeys(target {self.target_id}, {len(self.opening_texts)} keys, hidden)"
