"""OpenFlow, Windmill's public flow format: typed models, loading, validation, args.

    doc = load_flow("flow.yaml")            # shape checked: FlowLoadError / FlowValidationError
    validate_flow(doc, check_expression=..., check_script=...)   # ids, expressions, scripts
    args = validate_args(doc.schema_, {"x": 1})                  # defaults filled, checked
    dump_flow(doc)                          # the document as loaded, unknown fields kept
"""

from __future__ import annotations

from engine.openflow.args import validate_args, with_defaults
from engine.openflow.base import (
    TRANSFORM_TYPES,
    InputTransform,
    JavascriptTransform,
    Number,
    NumberOrTransform,
    OpenFlowModel,
    StaticTransform,
)
from engine.openflow.checks import RESERVED_IDS, validate_flow
from engine.openflow.defaults import free_step_id
from engine.openflow.loader import dump_flow, dump_value, flow_from_data, load_flow, parse_flow
from engine.openflow.models import (
    MODULE_TYPES,
    BranchAll,
    BranchAllBranch,
    BranchOne,
    BranchOneBranch,
    FlowDocument,
    FlowModule,
    FlowValue,
    ForloopFlow,
    Identity,
    ModuleValue,
    PathFlow,
    PathScript,
    RawScript,
    WhileloopFlow,
)
from engine.openflow.paths import format_path, join_path
from engine.openflow.policies import (
    ConstantRetry,
    ExponentialRetry,
    Mock,
    ResumeForm,
    Retry,
    RetryIf,
    SkipIf,
    StopAfterIf,
    Suspend,
)
from engine.openflow.walk import child_modules, iter_expressions, iter_modules, iter_rawscripts

__all__ = [
    "MODULE_TYPES",
    "RESERVED_IDS",
    "TRANSFORM_TYPES",
    "BranchAll",
    "BranchAllBranch",
    "BranchOne",
    "BranchOneBranch",
    "ConstantRetry",
    "ExponentialRetry",
    "FlowDocument",
    "FlowModule",
    "FlowValue",
    "ForloopFlow",
    "Identity",
    "InputTransform",
    "JavascriptTransform",
    "Mock",
    "ModuleValue",
    "Number",
    "NumberOrTransform",
    "OpenFlowModel",
    "PathFlow",
    "PathScript",
    "RawScript",
    "ResumeForm",
    "Retry",
    "RetryIf",
    "SkipIf",
    "StaticTransform",
    "StopAfterIf",
    "Suspend",
    "WhileloopFlow",
    "child_modules",
    "dump_flow",
    "dump_value",
    "flow_from_data",
    "format_path",
    "free_step_id",
    "iter_expressions",
    "iter_modules",
    "iter_rawscripts",
    "join_path",
    "load_flow",
    "parse_flow",
    "validate_args",
    "validate_flow",
    "with_defaults",
]
