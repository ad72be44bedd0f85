"""An example evaluation: a deterministic customer-support agent (no network) and its scorers.

Run it from the repository root:

    pytest --dataset examples/support/qa.jsonl --target support_agent
"""

from __future__ import annotations

import re
from typing import Any

import pytest_datasetrun as dr

# The "knowledge base" our toy agent answers from. A real target would call an LLM here.
POLICIES = {
    "billing": "Refunds are issued to the original payment method within 5 business days.",
    "shipping": "Standard shipping takes 3-5 business days; express shipping takes 1-2.",
    "account": "You can reset your password from the sign-in page via 'Forgot password'.",
    "returns": "Items can be returned within 30 days in their original packaging.",
}
KEYWORDS = {
    "billing": ("refund", "charge", "invoice", "payment", "billed"),
    "shipping": ("ship", "delivery", "deliver", "track", "package arrive"),
    "account": ("password", "login", "log in", "account", "email"),
    "returns": ("return", "exchange", "send back"),
}


def classify(question: str) -> str:
    text = question.lower()
    for category, words in KEYWORDS.items():
        if any(word in text for word in words):
            return category
    return "other"


@dr.target(
    id="support_agent",
    name="Support agent v1",
    scorers=[
        "mentions=contains(ignore_case=true)>=1",
        "right_category>=1",
        "polite",
        "length(max=60, unit='words')",
    ],
)
def support_agent(input: dict[str, Any]) -> dict[str, Any]:
    """Answer a support question; look up the order when the question names one."""
    question = input["question"]
    category = classify(question)
    calls = []
    order = re.search(r"order #?(\d+)", question, re.IGNORECASE)
    if order:
        calls.append({"name": "lookup_order", "arguments": {"order_id": order.group(1)}})
    greeting = (
        "Thanks for reaching out!"
        if input.get("tier") != "enterprise"
        else "Thank you, valued partner."
    )
    policy = POLICIES.get(category, "A human agent will follow up shortly.")
    return {"answer": f"{greeting} {policy}", "category": category, "tool_calls": calls}


@dr.scorer(id="right_category")
def right_category(output: dict[str, Any], metadata: dict[str, Any]) -> dr.Score:
    """The agent routed the question to the category the row expects."""
    expected = metadata["category"]
    got = output["category"]
    return dr.Score(float(got == expected), reason=f"routed to {got!r}, expected {expected!r}")


@dr.scorer(id="polite")
def polite(output: dict[str, Any]) -> float:
    """Share of courtesy markers present (thanks, please, happy to help)."""
    answer = output["answer"].lower()
    markers = ("thank", "please", "happy to help")
    return sum(marker in answer for marker in markers) / len(markers)
