"""Mint an operator token for development: python -m visitor_gateway.tokens --site acme --operator ann

`--role admin` mints a site administrator's token (an operator who may change the site's settings).
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from visitor_gateway.domain.auth import InvalidToken, caller_from, issue
from visitor_gateway.settings import VisitorGatewaySettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", required=True)
    parser.add_argument("--operator", required=True)
    parser.add_argument("--role", choices=("operator", "admin"), default="operator")
    parser.add_argument("--hours", type=float, default=12.0)
    args = parser.parse_args()
    secret = VisitorGatewaySettings().token_secret
    try:  # the gateway would refuse a token whose ids the contracts cannot carry
        claims = {"role": args.role, "site": args.site, "sub": args.operator}
        caller = caller_from(claims, "operator")
    except InvalidToken as error:
        parser.error(str(error))
    print(issue(secret, caller, timedelta(hours=args.hours)))


if __name__ == "__main__":
    main()
