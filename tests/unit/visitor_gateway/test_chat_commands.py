"""Commands in a chat leave the gateway at once, on the caller's own site and identity: the
session service decides them (and refuses another's chat), so no route asks it first."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from livechat_shared.contracts import EndChat, HoldChat, PostChatMessage, ResumeChat
from visitor_gateway.domain.auth import Caller, issue

from tests.unit.visitor_gateway.edge import SECRET, client, gateway_app

SESSION = uuid.uuid4()


def bearer(role: str, site_id: str, subject: str) -> dict[str, str]:
    caller = Caller(role=role, site_id=site_id, subject=subject)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {issue(SECRET, caller, timedelta(minutes=5))}"}


async def test_a_visitors_message_and_end_go_out_as_the_visitor_of_its_own_site() -> None:
    # the session service's URL answers nothing: a route that asked it would be a 503
    app, published = gateway_app()
    async with client(app, **bearer("visitor", "acme", "v-ada")) as http:
        body = {"client_message_id": "m1", "text": "hello"}
        sent = await http.post(f"/v1/visitor/sessions/{SESSION}/messages", json=body)
        ended = await http.post(f"/v1/visitor/sessions/{SESSION}/end")
    assert (sent.status_code, ended.status_code) == (202, 202), (sent.text, ended.text)
    post, end = published.messages
    assert isinstance(post, PostChatMessage) and isinstance(end, EndChat)
    assert (post.site_id, post.session_id, post.author, post.author_id) == (
        "acme",
        SESSION,
        "visitor",
        "v-ada",
    )
    assert (end.site_id, end.session_id, end.by, end.by_id) == ("acme", SESSION, "visitor", "v-ada")


@pytest.mark.parametrize("step, kind", [("hold", HoldChat), ("resume", ResumeChat)])
async def test_an_operators_hold_and_resume_go_out_as_that_operator(
    step: str, kind: type[HoldChat | ResumeChat]
) -> None:
    app, published = gateway_app()
    async with client(app, **bearer("operator", "acme", "ann")) as http:
        response = await http.post(f"/v1/operator/sessions/{SESSION}/{step}")
    assert response.status_code == 202, response.text
    [command] = published.messages
    assert isinstance(command, kind)
    assert (command.site_id, command.session_id, command.operator_id) == ("acme", SESSION, "ann")


async def test_a_session_path_that_is_no_session_id_is_refused_before_anything_goes_out() -> None:
    app, published = gateway_app()
    async with client(app, **bearer("operator", "acme", "ann")) as http:
        for path in ("../../other/sessions/x", "not-a-uuid", "%2e%2e"):
            response = await http.post(f"/v1/operator/sessions/{path}/end")
            assert response.status_code in (404, 422), (path, response.status_code)
    assert published.messages == []
