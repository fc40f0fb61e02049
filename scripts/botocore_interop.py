"""botocore's side of the SSO cache interop tests, with the pinned botocore.

    botocore_interop.py write-token CACHE_DIR SESSION_OR_START_URL START_URL REGION ACCESS_TOKEN EXPIRES_IN REFRESH_TOKEN
        Writes a token as the AWS CLI's `aws sso login` does: botocore's JSONFileCache with
        _sso_json_dumps (datetimes as %Y-%m-%dT%H:%M:%SZ), under SSOTokenLoader's key. A legacy
        profile's token is keyed by its start URL: pass it as SESSION_OR_START_URL and START_URL.
        EXPIRES_IN is seconds from now (negative for a token that has expired); REFRESH_TOKEN
        "-" for none.

    botocore_interop.py credentials PROFILE
        Prints the access key id botocore's credential chain gets for PROFILE (HOME,
        AWS_ENDPOINT_URL_SSO... come from the environment): proof that it read the token cache.

    botocore_interop.py assume-role-credentials PROFILE CODE
        The same for a role profile, with the AWS CLI's assume-role cache (~/.aws/cli/cache, as
        awscli.customizations.assumerole sets it up) and an MFA prompt that answers CODE, or
        fails if asked when CODE is "-".
"""
import os
import datetime
import sys

import botocore.session
from botocore.tokens import _sso_json_dumps
from botocore.utils import JSONFileCache, SSOTokenLoader


def write_token(cache_dir, key, start_url, region, access_token, expires_in, refresh_token):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    token = {
        "startUrl": start_url,
        "region": region,
        "accessToken": access_token,
        "expiresAt": now + datetime.timedelta(seconds=int(expires_in)),
    }
    if refresh_token != "-":
        token.update({
            "clientId": "client-from-botocore",
            "clientSecret": "secret-from-botocore",
            "registrationExpiresAt": now + datetime.timedelta(days=90),
            "refreshToken": refresh_token,
        })
    loader = SSOTokenLoader(cache=JSONFileCache(cache_dir, dumps_func=_sso_json_dumps))
    session_name = None if key == start_url else key
    loader.save_token(start_url, token, session_name=session_name)


def credentials(profile):
    session = botocore.session.Session(profile=profile)
    creds = session.get_credentials()
    print(creds.get_frozen_credentials().access_key)


def assume_role_credentials(profile, code):
    def prompter(prompt):
        if code == "-":
            raise RuntimeError("botocore asked for an MFA code: " + prompt)
        return code

    session = botocore.session.Session(profile=profile)
    resolver = session.get_component("credential_provider")
    provider = resolver.get_provider("assume-role")
    provider.cache = JSONFileCache(os.path.expanduser(os.path.join("~", ".aws", "cli", "cache")))
    provider._prompter = prompter
    print(session.get_credentials().get_frozen_credentials().access_key)


def main(argv):
    if argv[:1] == ["write-token"] and len(argv) == 8:
        write_token(*argv[1:])
    elif argv[:1] == ["credentials"] and len(argv) == 2:
        credentials(argv[1])
    elif argv[:1] == ["assume-role-credentials"] and len(argv) == 3:
        assume_role_credentials(argv[1], argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
