"""Typed models of an OpenFlow document: the flow value, its steps and every step type.

Fields Windmill leaves optional stay `None` when absent (a dump adds nothing). Where
Windmill's runtime default differs from "absent", an `effective_*` property gives the value
the engine uses and the editor shows. A script or flow step without `input_transforms` has
none, as in Windmill's engine (its published schema marks the field required).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field

from engine.openflow.base import InputTransform, Number, NumberOrTransform, OpenFlowModel
from engine.openflow.policies import Mock, Retry, SkipIf, StopAfterIf, Suspend

MODULE_TYPES = (
    "rawscript",
    "script",
    "flow",
    "forloopflow",
    "whileloopflow",
    "branchone",
    "branchall",
    "identity",
)
"""Every step type, in the order the editor lists them."""


class RawScript(OpenFlowModel):
    """A script written inline in the flow."""

    type: Literal["rawscript"]
    content: str
    language: str
    """python3, bash, bun, deno, nativets, ... (the runners decide what is supported)."""
    input_transforms: dict[str, InputTransform] = Field(default_factory=dict)
    path: str | None = None
    lock: str | None = None
    tag: str | None = None
    concurrent_limit: Number | None = None
    concurrency_time_window_s: Number | None = None
    custom_concurrency_key: str | None = None
    is_trigger: bool | None = None


class PathScript(OpenFlowModel):
    """A script saved in the workspace, referenced by path."""

    type: Literal["script"]
    path: str
    input_transforms: dict[str, InputTransform] = Field(default_factory=dict)
    hash: str | None = None
    tag_override: str | None = None
    is_trigger: bool | None = None


class PathFlow(OpenFlowModel):
    """Another flow saved in the workspace, run as one step."""

    type: Literal["flow"]
    path: str
    input_transforms: dict[str, InputTransform] = Field(default_factory=dict)


class _Loop(OpenFlowModel):
    modules: list[FlowModule]
    skip_failures: bool | None = None
    parallel: bool | None = None
    parallelism: NumberOrTransform | None = None
    """How many iterations run at once when parallel (None: all)."""
    squash: bool | None = None

    @property
    def effective_parallel(self) -> bool:
        """Iterations run one after the other unless `parallel` is set."""
        return bool(self.parallel)


class ForloopFlow(_Loop):
    """Run `modules` once per item of `iterator`."""

    type: Literal["forloopflow"]
    iterator: InputTransform

    @property
    def effective_skip_failures(self) -> bool:
        """A failing iteration is skipped unless `skip_failures` is false (Windmill's runtime)."""
        return True if self.skip_failures is None else self.skip_failures


class WhileloopFlow(_Loop):
    """Run `modules` repeatedly until a step's stop_after_if stops the loop."""

    type: Literal["whileloopflow"]

    @property
    def effective_skip_failures(self) -> bool:
        """A failing iteration fails the loop unless `skip_failures` is true."""
        return bool(self.skip_failures)


class BranchOneBranch(OpenFlowModel):
    """One branch of a branchone: taken when `expr` is truthy."""

    expr: str
    modules: list[FlowModule]
    summary: str | None = None


class BranchOne(OpenFlowModel):
    """Run the first branch whose expr is truthy, else `default`."""

    type: Literal["branchone"]
    branches: list[BranchOneBranch]
    default: list[FlowModule]


class BranchAllBranch(OpenFlowModel):
    """One branch of a branchall: always run."""

    modules: list[FlowModule]
    summary: str | None = None
    skip_failure: bool | None = None
    expr: str | None = None

    @property
    def effective_skip_failure(self) -> bool:
        """A failing branch fails the step unless `skip_failure` is true."""
        return bool(self.skip_failure)


class BranchAll(OpenFlowModel):
    """Run every branch; the result is the list of branch results."""

    type: Literal["branchall"]
    branches: list[BranchAllBranch]
    parallel: bool | None = None

    @property
    def effective_parallel(self) -> bool:
        """Branches run in parallel unless `parallel` is false (Windmill's runtime)."""
        return True if self.parallel is None else self.parallel


class Identity(OpenFlowModel):
    """A step that returns its previous result unchanged."""

    type: Literal["identity"]
    flow: bool | None = None


ModuleValue = Annotated[
    Union[
        RawScript,
        PathScript,
        PathFlow,
        ForloopFlow,
        WhileloopFlow,
        BranchOne,
        BranchAll,
        Identity,
    ],
    Field(discriminator="type"),
]
"""What a step does, chosen by its `type`."""


class FlowModule(OpenFlowModel):
    """One step of a flow: an id, what it does, and its per-step options."""

    id: str
    value: ModuleValue
    summary: str | None = None
    stop_after_if: StopAfterIf | None = None
    stop_after_all_iters_if: StopAfterIf | None = None
    """For loops: checked once over the list of iteration results."""
    skip_if: SkipIf | None = None
    sleep: NumberOrTransform | None = None
    """Seconds to wait after the step."""
    cache_ttl: Number | None = None
    timeout: NumberOrTransform | None = None
    """Seconds the step may run."""
    delete_after_use: bool | None = None
    mock: Mock | None = None
    suspend: Suspend | None = None
    priority: Number | None = None
    continue_on_error: bool | None = None
    """When the step fails, its error object becomes its result and the flow goes on."""
    retry: Retry | None = None


class FlowValue(OpenFlowModel):
    """The steps of a flow and its flow-wide options."""

    modules: list[FlowModule]
    failure_module: FlowModule | None = None
    """Runs when the flow fails, with the error as input."""
    preprocessor_module: FlowModule | None = None
    """Runs first, turning the trigger payload into flow args."""
    same_worker: bool | None = None
    concurrent_limit: Number | None = None
    concurrency_key: str | None = None
    concurrency_time_window_s: Number | None = None
    skip_expr: str | None = None
    """Skip the whole flow when this expression over flow_input is truthy."""
    cache_ttl: Number | None = None
    priority: Number | None = None
    early_return: str | None = None
    """Id of the step whose result is returned to the caller before the flow ends."""
    flow_env: dict[str, Any] | None = None
    """Values every expression reads as `flow_env.<name>`: any JSON, as in Windmill."""
    dedicated_worker: bool | None = None
    """The flow's Python script steps run in dedicated mode. Windmill keeps the flag beside the
    value (FlowDocument.dedicated_worker); a run's snapshot, which is the value alone, keeps it here."""


class FlowDocument(OpenFlowModel):
    """A whole flow as Windmill exports it: summary, description, value, args schema."""

    summary: str | None = None
    description: str | None = None
    value: FlowValue
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    """JSON Schema of the flow's args (`schema` in the document)."""
    dedicated_worker: bool | None = None
    """Its Python script steps call main in a warm worker per script version (dedicated mode)."""


for _model in (_Loop, ForloopFlow, WhileloopFlow, BranchOneBranch, BranchOne, BranchAllBranch,
               BranchAll, FlowModule, FlowValue, FlowDocument):
    _model.model_rebuild()
