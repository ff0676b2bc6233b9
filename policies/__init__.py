"""The department's rules as data, and the pure engine that reads them.

    policy = load_policy()                       # policies/esdc.yml unless MICROBUY_POLICY says
    request = parse_request(data, policy)        # RequestError names each bad field
    result = evaluate(policy, request, history, on=date.today())
"""
from .engine import evaluate
from .evaluation import APPROVAL_REQUIRED, BLOCK, BLOCKED, INFO, WARN, Evaluation, Finding, RouteStep
from .facts import PastPurchase, history_window
from .loader import DEFAULT_POLICY, LoadedPolicy, PolicyError, PolicyInForce, load_policy, parse_policy, policy_path
from .money import AmountError, cents, format_money, parse_amount
from .request import PurchaseRequest, RequestError, parse_request

__all__ = [
    "APPROVAL_REQUIRED", "BLOCK", "BLOCKED", "DEFAULT_POLICY", "INFO", "WARN", "AmountError", "Evaluation",
    "Finding", "LoadedPolicy", "PastPurchase", "history_window", "PolicyError", "PolicyInForce", "PurchaseRequest",
    "RequestError", "RouteStep",
    "cents", "evaluate", "format_money", "load_policy", "parse_amount", "parse_policy", "parse_request",
    "policy_path",
]
