"""The Fernet keys: one descriptor, one validation and one parsing for every processor that encrypts.

The flow fills the property by name from its sensitive parameter, so each processor lists it
under the same name.
"""

from nifiapi.properties import PropertyDescriptor, StandardValidators, ValidationResult

from ecommerce_pipeline.fernet_tokens import KeyRing, key_list_problem, parse_keys

FERNET_KEYS = PropertyDescriptor(
    name="Fernet Keys",
    description="Comma-separated Fernet keys, newest first; fill it from a sensitive parameter.",
    required=True,
    sensitive=True,
    validators=[StandardValidators.NON_EMPTY_VALIDATOR],
)


def key_validation(context) -> list[ValidationResult]:
    """An invalid result naming the malformed key by position (never quoting it), or none."""
    problem = key_list_problem(context.getProperty(FERNET_KEYS).getValue(), FERNET_KEYS.name)
    return [ValidationResult(subject=FERNET_KEYS.name, explanation=problem, valid=False)] if problem else []


def keyring(context) -> KeyRing:
    return parse_keys(context.getProperty(FERNET_KEYS).getValue(), FERNET_KEYS.name)
