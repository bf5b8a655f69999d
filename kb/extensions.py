"""Flask extensions, created unbound here and bound to an app in `create_app`, and the limiter's per-person key."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names are fixed so migrations can alter them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base class of every model. Flask-SQLAlchemy builds `db.Model` at run time from Base, and
# types it as an attribute, which a type checker cannot take as a base class; kb's models use
# only Base's typed mapping (no `Model.query`), so the checker is shown Base itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


COMMENT_PERSON_SCOPE = "comment-person"
COMMENT_ADDRESS_SCOPE = "comment-address"
"""The buckets of the comment limits, shared by the comment form and the API so neither adds to the allowance."""


def per_person(kind: str) -> Callable[[], str]:
    """A rate-limit key function for `kind` of post: the signed-in account, else the address.

    Keyed by the account's id, not its session token, so signing in again does not
    start a fresh allowance.
    """

    def key() -> str:
        if current_user.is_authenticated:
            return f"{kind}-user:{current_user.id}"
        return f"{kind}-address:{get_remote_address()}"

    return key
