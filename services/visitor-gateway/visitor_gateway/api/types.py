"""Request and response types that more than one group of routes uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from livechat_shared.contracts.envelope import ClientMessageId, MessageText, SiteId
from pydantic import BaseModel, ConfigDict

SitePath = Annotated[SiteId, Path(description="The site's id (the contracts' SiteId).")]


class RequestBody(BaseModel):
    """A request body refuses fields it does not know, so a typo is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Accepted(BaseModel):
    status: str = "accepted"
    detail: str


class NewMessage(RequestBody):
    client_message_id: ClientMessageId
    text: MessageText
