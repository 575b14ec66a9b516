"""Access tokens (JWT, HS256, kid-rotated) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from taskwell.errors import Unauthorized
from taskwell.settings import Settings

ALGORITHM = "HS256"
_VERIFIED_MAX = 50_000
ACCESS_TYPE = "at+jwt"  # RFC 9068: a refresh or id token can never pass for an access token


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: int


class InvalidToken(Unauthorized):
    slug, title, status = "invalid-token", "The access token is not valid", 401


class TokenCodec:
    def __init__(self, settings: Settings) -> None:
        self._keys = settings.jwt_keys
        self._signing_kid = settings.jwt_key_id
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.access_ttl = settings.access_token_ttl_seconds
        self._verified: dict[str, AccessClaims] = {}

    def issue_access(self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> str:
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.access_ttl)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        headers = {"kid": self._signing_kid, "typ": ACCESS_TYPE}
        return jwt.encode(
            payload, self._keys[self._signing_kid], algorithm=ALGORITHM, headers=headers
        )

    def decode_access(self, token: str) -> AccessClaims:
        """Verify the signature with a configured key, then the claims; any doubt is a 401.

        A token that verified once is remembered (by its exact text) until it expires, so a
        client's repeated requests skip the signature and JSON work; expiry is still checked
        on every use, and revocation is the session guard's job either way."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():
                return known
            del self._verified[token]
        claims = self._verify(token)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            # kid is untrusted input: it only selects among keys we hold (RFC 8725 3.10).
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None or header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TYPE:
                raise InvalidToken("The access token is not valid.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "sid", "jti", "aud", "iss"]},
            )
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                expires_at=int(claims["exp"]),
            )
        except InvalidToken:
            raise
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The access token has expired; refresh it.") from exc
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken("The access token is not valid.") from exc


def new_refresh_token() -> str:
    """256 bits from the OS CSPRNG."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # A fast hash is right here: the token has 256 bits of entropy, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()
