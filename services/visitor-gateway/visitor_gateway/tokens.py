"""Mint an operator token for development: python -m visitor_gateway.tokens --site acme --operator ann"""

from __future__ import annotations

import argparse
from datetime import timedelta

from visitor_gateway.auth import Caller, issue
from visitor_gateway.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", required=True)
    parser.add_argument("--operator", required=True)
    parser.add_argument("--hours", type=float, default=12.0)
    args = parser.parse_args()
    secret = Settings().token_secret
    caller = Caller(role="operator", site_id=args.site, subject=args.operator)
    print(issue(secret, caller, timedelta(hours=args.hours)))


if __name__ == "__main__":
    main()
