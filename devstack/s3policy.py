"""S3's checks of anonymous writes, in front of moto: what a browser upload meets on AWS.

moto accepts any browser upload: a tampered signature, an expired or missing policy, another
key, content type or size, even an anonymous PUT. On AWS each of those is refused, so an upload
bug would pass on the laptop and fail in the cloud. This WSGI layer sits in front of the
embedded stack's moto server and refuses them as S3 does, with S3's status and error XML:

- a POST of a form (``multipart/form-data``) to a bucket is checked as S3 checks a presigned
  POST with Signature Version 4 (``AWS4-HMAC-SHA256``): the signature of the policy (with the
  stack's own dummy credentials), its expiry, every condition (exact, ``eq``, ``starts-with``,
  ``content-length-range``) and that no form field escapes the policy;
- any other write (PUT, POST, DELETE) to a bucket that carries no signature at all (no
  ``Authorization`` header, no presigned query) is a 403 ``AccessDenied``;
- a presigned URL (SigV4 query: the rendition and export links the app hands out) is checked
  for its signature and its expiry: a link kept past ``X-Amz-Expires`` is a 403 "Request has
  expired" here too, not a working image that breaks only in the cloud.

Requests signed in a header (the app's boto3 clients) and unsigned reads pass through
unchanged: moto already refuses anonymous reads of private objects. Error answers carry the
bucket's CORS headers when the ``Origin`` matches a rule, as S3's do, so browser code can read
them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, unquote
from xml.sax.saxutils import escape

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ALGORITHM = "AWS4-HMAC-SHA256"
#: Form fields S3 leaves out of the policy check (besides ``x-ignore-*``).
_UNCHECKED_FIELDS = {"policy", "x-amz-signature", "file"}
_WRITES = {"PUT", "POST", "DELETE", "PATCH"}


class S3Error(Exception):
    """An answer S3 would give instead of storing the object."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def xml(self) -> bytes:
        """S3's error document."""
        parts = [f"<Code>{self.code}</Code>", f"<Message>{escape(self.message)}</Message>"]
        parts += [f"<{name}>{escape(str(value))}</{name}>" for name, value in self.extra.items()]
        parts += [f"<RequestId>{secrets.token_hex(8).upper()}</RequestId>"]
        parts += [f"<HostId>{base64.b64encode(secrets.token_bytes(24)).decode()}</HostId>"]
        body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"
        return body.encode()


def _policy_failed(reason: str) -> S3Error:
    return S3Error(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _missing_field(name: str) -> S3Error:
    return S3Error(
        400,
        "InvalidArgument",
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the "
        "order of the fields.",
        ArgumentName=name,
    )


class S3PostPolicy:
    """WSGI middleware enforcing S3's rules for anonymous writes (module docstring).

    ``credentials`` maps access key ids to their secret keys (the stack's dummy ones);
    ``bucket_cors`` returns a bucket's CORS rules, or None when there is no such bucket;
    ``clock`` gives the time in seconds (a test may stop it)."""

    def __init__(
        self,
        app: WSGIApp,
        credentials: dict[str, str],
        bucket_cors: Callable[[str], list[Any] | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._credentials = credentials
        self._bucket_cors = bucket_cors
        self._clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        presigned = self._presigned_to(environ)
        if presigned is not None:
            try:
                check_presigned_url(environ, self._credentials, self._clock())
            except S3Error as error:
                return self._refuse(error, presigned, environ, start_response)
            return self._app(environ, start_response)
        bucket = self._anonymous_write_to(environ)
        if bucket is None:
            return self._app(environ, start_response)
        try:
            if environ["REQUEST_METHOD"] == "POST" and _is_form(environ):
                body = _read_body(environ)
                check_post(body, environ, bucket, self._credentials, self._clock())
                # moto reads the form again: hand it the same bytes
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
                return self._app(environ, start_response)
            raise S3Error(403, "AccessDenied", "Access Denied")
        except S3Error as error:
            return self._refuse(error, bucket, environ, start_response)

    def _presigned_to(self, environ: dict[str, Any]) -> str | None:
        """The bucket a presigned (SigV4 query) request goes to, or None."""
        if "X-Amz-Signature=" not in environ.get("QUERY_STRING", ""):
            return None
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return None  # a browser's preflight carries no credentials, signed or not
        bucket = _bucket_of(environ)
        return bucket if bucket and self._bucket_cors(bucket) is not None else None

    def _anonymous_write_to(self, environ: dict[str, Any]) -> str | None:
        """The bucket an unsigned write goes to, or None for anything else."""
        if environ["REQUEST_METHOD"] not in _WRITES:
            return None
        # Signed: a SigV4 header, a presigned query, or an AWS JSON call (Cognito's public
        # calls carry X-Amz-Target and no signature): not S3's anonymous path.
        if environ.get("HTTP_AUTHORIZATION") or environ.get("HTTP_X_AMZ_TARGET"):
            return None
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Signature" in query or "Signature" in query:
            return None
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return None
        bucket = _bucket_of(environ)
        if not bucket or self._bucket_cors(bucket) is None:
            return None  # not a bucket: moto answers (NoSuchBucket, or another service)
        return bucket

    def _refuse(
        self,
        error: S3Error,
        bucket: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> list[bytes]:
        body = error.xml()
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        headers += _cors_headers(self._bucket_cors(bucket) or [], environ.get("HTTP_ORIGIN"))
        reason = {400: "Bad Request", 403: "Forbidden"}.get(error.status, "Error")
        start_response(f"{error.status} {reason}", headers)
        return [body]


def check_post(
    body: bytes,
    environ: dict[str, Any],
    bucket: str,
    credentials: dict[str, str],
    now: float,
) -> None:
    """Raise the S3Error S3 would answer to this browser-based upload (a POST form), if any."""
    fields, files = _parse_form(body, environ)
    if len(files) != 1 or "file" not in {name.lower() for name in files}:
        raise S3Error(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
            ArgumentName="file",
            ArgumentValue=len(files),
        )
    size = next(iter(files.values()))
    lower = {name.lower(): value for name, value in fields.items()}
    if "key" not in lower:
        raise _missing_field("key")
    if "policy" not in lower:
        raise S3Error(403, "AccessDenied", "Access Denied")  # anonymous: the bucket is private
    for name in ("x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        if name not in lower:
            raise _missing_field(name.title())
    if lower["x-amz-algorithm"] != ALGORITHM:
        raise S3Error(
            400,
            "InvalidArgument",
            f"Unsupported algorithm {lower['x-amz-algorithm']!r}: only {ALGORITHM} is accepted",
            ArgumentName="x-amz-algorithm",
        )
    _check_signature(lower, credentials)
    policy = _decode_policy(lower["policy"])
    _check_expiry(policy, now)
    conditions = policy["conditions"]
    covered = _check_conditions(conditions, lower, bucket)
    extra = [
        name
        for name in fields
        if name.lower() not in covered
        and name.lower() not in _UNCHECKED_FIELDS
        and not name.lower().startswith("x-ignore-")
    ]
    if extra:
        raise _policy_failed(f"Extra input fields: {', '.join(extra)}")
    _check_length(conditions, size)


def check_presigned_url(environ: dict[str, Any], credentials: dict[str, str], now: float) -> None:
    """Raise the S3Error S3 would answer to this presigned (SigV4 query) request, if any."""
    pairs = [pair.partition("=") for pair in environ.get("QUERY_STRING", "").split("&") if pair]
    query = {unquote(key): unquote(value) for key, _, value in pairs}
    for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires"):
        if name not in query:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                f"Query-string authentication version 4 requires the {name} parameter.",
            )
    scope = query["X-Amz-Credential"].split("/")
    secret = credentials.get(scope[0])
    if secret is None:
        raise S3Error(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=scope[0],
        )
    try:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        lifetime = int(query["X-Amz-Expires"])
    except ValueError:
        raise S3Error(
            400,
            "AuthorizationQueryParametersError",
            "X-Amz-Date must be in the ISO8601 Long Format and X-Amz-Expires an integer.",
        ) from None
    expires = signed_at.replace(tzinfo=UTC).timestamp() + lifetime
    canonical_query = "&".join(
        sorted(
            f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}"
            for key, value in query.items()
            if key != "X-Amz-Signature"
        )
    )
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/~")
    signed_headers = query.get("X-Amz-SignedHeaders", "host").split(";")
    # Under HOST=0.0.0.0 the API hands out URLs signed for 127.0.0.1 with the machine's address
    # put in (devstack/local_api.py): those count as signed for the host they arrived at.
    hosts = {environ.get("HTTP_HOST", ""), f"127.0.0.1:{environ.get('SERVER_PORT', '')}"}
    for host in hosts:
        headers = "".join(
            f"{name}:{host if name == 'host' else _header(environ, name)}\n"
            for name in signed_headers
        )
        canonical = "\n".join(
            [
                environ["REQUEST_METHOD"],
                path,
                canonical_query,
                headers,
                ";".join(signed_headers),
                environ.get("HTTP_X_AMZ_CONTENT_SHA256", "UNSIGNED-PAYLOAD"),
            ]
        )
        to_sign = "\n".join(
            [
                ALGORITHM,
                query["X-Amz-Date"],
                "/".join(scope[1:]),
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        if hmac.compare_digest(_sign(secret, scope[1:4], to_sign), query["X-Amz-Signature"]):
            break
    else:
        raise S3Error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=scope[0],
        )
    if now > expires:
        raise S3Error(
            403,
            "AccessDenied",
            "Request has expired",
            **{"X-Amz-Expires": lifetime},
            Expires=datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            ServerTime=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )


def _header(environ: dict[str, Any], name: str) -> str:
    key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
    return " ".join(str(environ.get(key, "")).split())


def _sign(secret: str, scope: list[str], text: str) -> str:
    """SigV4: HMAC-SHA256 of ``text`` with the key derived from the secret and the scope
    (date, region, service)."""
    key = ("AWS4" + secret).encode()
    for part in [*scope, "aws4_request"]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _bucket_of(environ: dict[str, Any]) -> str:
    return unquote(environ.get("PATH_INFO", "")).lstrip("/").split("/", 1)[0]


def _check_signature(fields: dict[str, str], credentials: dict[str, str]) -> None:
    scope = fields["x-amz-credential"].split("/")
    if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
        raise S3Error(
            400,
            "InvalidArgument",
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            ArgumentName="x-amz-credential",
            ArgumentValue=fields["x-amz-credential"],
        )
    access_key, date, region, service, _ = scope
    secret = credentials.get(access_key)
    if secret is None:
        raise S3Error(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            AWSAccessKeyId=access_key,
        )
    # SigV4 for POST: the string to sign is the base64 policy itself.
    expected = _sign(secret, [date, region, service], fields["policy"])
    if not hmac.compare_digest(expected, fields["x-amz-signature"].lower()):
        raise S3Error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            AWSAccessKeyId=access_key,
            StringToSign=fields["policy"],
            SignatureProvided=fields["x-amz-signature"],
        )


def _decode_policy(encoded: str) -> dict[str, Any]:
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if not isinstance(policy, dict):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if "expiration" not in policy:
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing expiration.")
    if not isinstance(policy.get("conditions"), list):
        raise S3Error(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    return policy


def _check_expiry(policy: dict[str, Any], now: float) -> None:
    try:
        # botocore writes 2026-12-02T16:06:21Z; S3 also takes fractional seconds
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
    except ValueError:
        raise S3Error(
            400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value."
        ) from None
    if expiration.timestamp() <= now:
        raise _policy_failed("Policy expired.")


def _check_conditions(conditions: list[Any], fields: dict[str, str], bucket: str) -> set[str]:
    """Check every field condition; the (lower-case) field names the policy covers."""
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            ((name, value),) = condition.items()
            operator = "eq"
        elif (
            isinstance(condition, list)
            and len(condition) == 3
            and condition[0] in ("eq", "starts-with")
            and isinstance(condition[1], str)
            and condition[1].startswith("$")
        ):
            operator, name, value = condition[0], condition[1][1:], condition[2]
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            continue  # checked against the file, after the fields
        else:
            raise S3Error(
                400,
                "InvalidPolicyDocument",
                f"Invalid Policy: Invalid Condition: {json.dumps(condition)}",
            )
        field = name.lower()
        covered.add(field)
        actual = bucket if field == "bucket" else fields.get(field)
        ok = actual is not None and (
            actual == str(value) if operator == "eq" else actual.startswith(str(value))
        )
        if not ok:
            shown = json.dumps([operator, f"${name}", value])
            raise _policy_failed(f"Policy Condition failed: {shown}")
    return covered


def _check_length(conditions: list[Any], size: int) -> None:
    for condition in conditions:
        if not (isinstance(condition, list) and condition[:1] == ["content-length-range"]):
            continue
        low, high = int(condition[1]), int(condition[2])
        if size > high:
            raise S3Error(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=size,
                MaxSizeAllowed=high,
            )
        if size < low:
            raise S3Error(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=size,
                MinSizeAllowed=low,
            )


def _is_form(environ: dict[str, Any]) -> bool:
    return environ.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _parse_form(body: bytes, environ: dict[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """The form's text fields and its file parts (name → size in bytes)."""
    from werkzeug.formparser import parse_form_data

    copy = dict(environ, **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    try:
        _, form, files = parse_form_data(copy, silent=False)
    except Exception:  # werkzeug raises ValueError and HTTPExceptions on broken forms
        raise S3Error(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        ) from None
    fields = {name: form[name] for name in form}
    sizes = {}
    for name in files:
        upload = files[name]
        sizes[name] = len(upload.read())
    return fields, sizes


def _cors_headers(rules: list[Any], origin: str | None) -> list[tuple[str, str]]:
    """The CORS headers S3 adds to an answer for ``origin`` under the bucket's rules."""
    if not origin:
        return []
    from moto.s3.utils import cors_matches_origin

    for rule in rules:
        if rule.allowed_origins and cors_matches_origin(origin, rule.allowed_origins):
            headers = [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods or [])),
                ("Vary", "Origin"),
            ]
            if rule.exposed_headers:
                headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
            return headers
    return []


def enforce(app: WSGIApp, credentials: dict[str, str] | None = None) -> S3PostPolicy:
    """``app`` (moto's WSGI app, in this process) behind S3's checks of anonymous writes.
    ``credentials``: the access keys S3 knows, by default this process's (the stack's dummy
    ones, which every process of the stack signs with)."""
    if credentials is None:
        credentials = {
            os.environ.get("AWS_ACCESS_KEY_ID", "testing"): os.environ.get(
                "AWS_SECRET_ACCESS_KEY", "testing"
            )
        }

    def bucket_cors(name: str) -> list[Any] | None:
        from moto.s3.models import s3_backends

        owner = s3_backends.bucket_accounts.get(name)  # (partition, account) of the bucket
        if owner is None:
            return None
        partition, account = owner
        return list(s3_backends[account][partition].buckets[name].cors)

    return S3PostPolicy(app, credentials, bucket_cors)
