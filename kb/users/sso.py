"""Single sign-on with an OpenID provider: the provider's answer checked, and the kb account it signs in.

- `init_app` registers the provider (Authlib's Flask client) when `OIDC_DISCOVERY_URL` is set, and
  starts loading its discovery document in the background; no page waits for the provider until
  the person presses the button.
- `authorize_redirect` sends the browser to the provider with the authorisation code flow; the
  state, nonce and PKCE verifier wait in the session for the answer.
- `claims_from_callback` checks that answer: the state, the code exchanged for tokens, and the ID
  token's signature (the provider's published keys), issuer, audience, expiry and nonce.
- `account_for` finds the account by the provider's (issuer, subject), else links the active
  account with the same verified email, else makes a member in the email domain's organisation;
  with `OIDC_ROLES_CLAIM` set, the claim decides the role at every sign-in.
Each raises `SsoError` with a message for the person; nothing is made or linked when one is raised.

`emergency_link` is the way in for an admin when the provider is down and local passwords are
off: a one-time link printed by `flask --app kb users emergency-link EMAIL`, good for 15 minutes,
read by `emergency_user` and spent by `use_emergency_link`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from kb.audit.service import record_event
from kb.dates import utcnow
from kb.errors import InvalidInputError
from kb.extensions import db
from kb.mail import site_link
from kb.states import Role
from kb.users import service
from kb.users.models import Organisation, User, UserIdentity
from kb.users.session_store import end_all_sessions
from kb.users.tokens import TokenError, make_token, password_fingerprint, read_token

PROVIDER = "sso"
CALLBACK_PATH = "/login/sso/callback"
ROLE_RANK: dict[str, int] = {Role.MEMBER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}
PROVIDER_TIMEOUT_SECONDS = 10
EMERGENCY_PATH = "/login/emergency/"
EMERGENCY_MAX_AGE = dt.timedelta(minutes=15)
_EXTENSION = "authlib.integrations.flask_client"
_LOADING_KEY = "kb_sso_metadata_loading"
METADATA_RETRY_SECONDS = 60


class SsoError(InvalidInputError):
    """Single sign-on cannot go on; the message says why, for the person, and `status` is the page's status."""

    def __init__(self, message: str, *, status: int = 400, reason: str = "refused") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def init_app(app: Flask) -> None:
    """Register the OpenID provider named by the settings on `app`, if any."""
    if not app.config["OIDC_DISCOVERY_URL"]:
        return
    oauth = OAuth(app)
    oauth.register(
        PROVIDER,
        server_metadata_url=app.config["OIDC_DISCOVERY_URL"],
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_SECONDS,
        },
    )
    app.extensions[_LOADING_KEY] = _MetadataLoader()
    with app.app_context():
        load_metadata_soon()


class _MetadataLoader:
    """Loads the provider's discovery document in a background thread, at most once a minute while it fails."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_try = 0.0

    def start(self, client: Any) -> None:
        """Start a load unless the document is loaded, one is under way, or the last began under a minute ago."""
        with self.lock:
            if "_loaded_at" in client.server_metadata or time.monotonic() < self.next_try:
                return
            self.next_try = time.monotonic() + METADATA_RETRY_SECONDS
        threading.Thread(target=self._load, args=(client, current_app.logger), daemon=True).start()

    @staticmethod
    def _load(client: Any, logger: Any) -> None:
        try:
            client.load_server_metadata()
        except (requests.RequestException, ValueError) as error:
            logger.warning("single sign-on: the provider's discovery document could not be loaded: %s", error)


def load_metadata_soon() -> None:
    """Load the provider's discovery document in the background if it is not loaded yet; never waits for it."""
    current_app.extensions[_LOADING_KEY].start(_client())


def enabled() -> bool:
    """Whether this site signs people in through an OpenID provider."""
    return bool(current_app.config["OIDC_DISCOVERY_URL"])


def _client() -> Any:
    return current_app.extensions[_EXTENSION].create_client(PROVIDER)


def _unreachable() -> SsoError:
    return SsoError(
        "Single sign-on is not working just now: kb could not reach the sign-in service. Try again in a few minutes.",
        status=502,
        reason="provider unreachable",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def form_origins() -> list[str]:
    """Where the sign-in page's button may lead (its `form-action`), without ever waiting for the provider.

    The discovery address's origin, and the authorisation endpoint's once the discovery
    document is loaded; while it is not, a background load is started for the next page.
    """
    client = _client()
    origins = {_origin(current_app.config["OIDC_DISCOVERY_URL"])}
    endpoint = client.server_metadata.get("authorization_endpoint")
    if isinstance(endpoint, str):
        origins.add(_origin(endpoint))
    else:
        load_metadata_soon()
    return sorted(origins)


def redirect_uri() -> str:
    """The address the provider sends people back to, as registered there: `SITE_URL` + `/login/sso/callback`."""
    return current_app.config["SITE_URL"] + CALLBACK_PATH


def authorize_redirect() -> Response:
    """The redirect to the provider's sign-in page; raises `SsoError` when the provider cannot be reached."""
    try:
        return _client().authorize_redirect(redirect_uri())
    except (requests.RequestException, ValueError, RuntimeError):
        raise _unreachable() from None


def claims_from_callback() -> tuple[str, dict[str, Any]]:
    """The provider's issuer and the checked ID token's claims, from the request the provider sent back.

    Raises `SsoError` when the person cancelled or the provider refused (`error=`), the state
    does not match this browser's, the code cannot be exchanged, or the ID token fails a check.
    """
    client = _client()
    try:
        token = client.authorize_access_token()
    except OAuthError as error:
        if error.error == "mismatching_state":
            raise SsoError(
                "This sign-in was started in another window or took too long. Please sign in again.", reason="state"
            ) from None
        if error.error == "access_denied":
            raise SsoError("Signing in was cancelled at the sign-in service.", reason="access denied") from None
        raise SsoError("The sign-in service did not sign you in. Please try again.", reason=error.error) from None
    except (JoseError, AuthlibBaseError, ValueError, KeyError) as error:
        current_app.logger.warning("single sign-on: ID token refused: %s", error)
        raise SsoError("The sign-in service's answer could not be checked. Please try again.", reason="token") from None
    except requests.RequestException:
        raise _unreachable() from None
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SsoError("The sign-in service did not say who you are. Please try again.", reason="no ID token")
    return str(client.load_server_metadata()["issuer"]), dict(claims)


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get(current_app.config["OIDC_EMAIL_VERIFIED_CLAIM"])
    return value is True or (isinstance(value, str) and value.lower() == "true")


def role_from_claims(claims: dict[str, Any]) -> str:
    """The highest kb role the roles claim's values map to (`OIDC_ROLE_VALUES`); member when none does."""
    values = claims.get(current_app.config["OIDC_ROLES_CLAIM"]) or []
    values = [values] if isinstance(values, str) else values
    mapping = current_app.config["OIDC_ROLE_VALUES"]
    roles = [mapping[str(value).lower()] for value in values if str(value).lower() in mapping]
    return max(roles, key=ROLE_RANK.__getitem__, default=Role.MEMBER.value)


def _checked_email(claims: dict[str, Any]) -> tuple[str, str]:
    """The claims' email and its domain, if verified and in an allowed domain; else `SsoError`."""
    email = str(claims.get("email") or "").strip()
    if "@" not in email:
        raise SsoError("The sign-in service did not give kb your email address, so you cannot sign in this way.")
    if not _verified(claims):
        raise SsoError(
            f"Your email address {email} is not verified at the sign-in service, so kb cannot use it. "
            "Verify it there, then sign in again.",
            reason="email not verified",
        )
    domain = email.rsplit("@", 1)[1].lower()
    if domain not in current_app.config["OIDC_DOMAINS"]:
        raise SsoError(
            f"Addresses at {domain} cannot sign in to {current_app.config['SITE_NAME']}. "
            "If your organisation should be able to, ask an admin to add it.",
            status=403,
            reason="domain not allowed",
        )
    return email, domain


def _organisation(domain: str) -> Organisation | None:
    name = current_app.config["OIDC_DOMAINS"][domain]
    if not name:
        return None
    found = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if found is None:
        raise SsoError(
            f"{current_app.config['SITE_NAME']} is not set up for {domain} yet. Ask an admin for help.",
            status=503,
            reason=f"no organisation called {name}",
        )
    return found


def _link(issuer: str, subject: str, email: str, domain: str, claims: dict[str, Any]) -> UserIdentity:
    """A new link for this provider account: to the account with its email, else to a new member."""
    user = service.find_user_by_email(email)
    if user is not None:
        linked = db.session.scalar(
            select(UserIdentity).where(UserIdentity.user_id == user.id, UserIdentity.issuer == issuer)
        )
        if linked is not None:
            raise SsoError(
                f"The account for {user.email} is already linked to another account at the sign-in service. "
                "Ask an admin for help.",
                status=403,
                reason="linked to another subject",
            )
        if not user.active:
            raise _deactivated()
        record_event("sso.link", actor=user, target=user, new=issuer)
    else:
        try:
            user = service.create_user(email, str(claims.get("name") or ""), organisation=_organisation(domain))
        except service.AccountError as error:
            raise SsoError(str(error), reason="account not made") from None
        record_event("sso.create", actor=user, target=user, new=issuer)
    identity = UserIdentity(issuer=issuer, subject=subject, user=user)
    db.session.add(identity)
    return identity


def _deactivated() -> SsoError:
    return SsoError("This account has been deactivated. Ask an admin if you need it again.", status=403)


def account_for(issuer: str, claims: dict[str, Any]) -> User:
    """The active account these checked claims sign in, linked or made as needed (flushed, not committed).

    The email must be verified and its domain in `OIDC_DOMAINS`, at every sign-in. Raises
    `SsoError` otherwise, for a deactivated account, and for an account already linked to
    another subject at this provider.
    """
    email, domain = _checked_email(claims)
    subject = str(claims["sub"])
    identity = db.session.scalar(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    )
    if identity is None:
        identity = _link(issuer, subject, email, domain, claims)
    user = identity.user
    if not user.active:
        raise _deactivated()
    if current_app.config["OIDC_ROLES_CLAIM"]:
        role = role_from_claims(claims)
        if role != user.role:
            record_event("user.role", actor=None, target=user, old=user.role, new=role)
            user.role = role
            end_all_sessions(user)
    identity.last_used_at = utcnow()
    db.session.flush()
    return user


def record_refusal(error: SsoError, claims: dict[str, Any] | None) -> None:
    """Audit a refused single sign-on as a failed sign-in, naming no stranger's address."""
    email = str((claims or {}).get("email") or "")
    user = service.find_user_by_email(email) if email else None
    record_event(
        "login.failure",
        actor=user,
        target=user,
        target_label=None if user else service.unknown_address_label(email or "none"),
        new=f"single sign-on: {error.reason}",
    )


def emergency_link(email: str) -> str:
    """A one-time sign-in link for the active admin with this email; raises `AccountError` for anyone else."""
    user = service.find_user_by_email(email)
    if user is None or not user.active or user.role != Role.ADMIN:
        raise service.AccountError(f"{email} is not the address of an active admin.")
    token = make_token(current_app.config["SECRET_KEY"], user.id, "emergency", user.session_token)
    return site_link(EMERGENCY_PATH + token)


def emergency_user(token: str) -> User:
    """The admin an emergency link signs in, if it is unexpired and unused; raises `AccountError` saying why not."""
    try:
        claim, fingerprint = read_token(current_app.config["SECRET_KEY"], token, "emergency", EMERGENCY_MAX_AGE)
    except TokenError as error:
        raise service.AccountError(str(error)) from None
    user = db.session.get(User, claim.user_id)
    if user is None or not user.active or user.role != Role.ADMIN:
        raise service.AccountError("This link is no longer valid.")
    if fingerprint != password_fingerprint(user.session_token):
        raise service.AccountError("This link has already been used, or the admin has signed in or out since.")
    return user


def use_emergency_link(token: str) -> User:
    """Spend an emergency link: the admin it signs in, every session of theirs ended (flushed, not committed).

    Ending every session of the admin replaces the token, so this link, and every other session
    of theirs, stops working.
    Raises `AccountError` as `emergency_user` does.
    """
    user = emergency_user(token)
    end_all_sessions(user)
    return user
