// The flow editor's canvas: React Flow with node state kept in the browser.
//
// Python lays the graph out and sends `nodes`, `edges`, `slots` and a `version` that
// changes with every edit; this module copies them into local state, so dragging costs no
// websocket traffic. Python hears one event per finished gesture: a palette item dropped
// (with the slot it lands in), a step dragged to another slot, a step selected or deleted.
// Statuses (node colours during a preview) come separately, so a status change does not
// reset the layout. With `readOnly` (a run's page) nodes cannot be dragged, dropped on,
// deleted or selected: the canvas only shows the graph and its statuses.
//
// The view fits the graph when a flow opens (`fitKey` changes) and when steps come or go,
// unless the user has zoomed or panned since: their view is theirs. A graph too tall to fit
// at a readable zoom shows its top at that zoom, with a minimap to move around.
import React, { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  ViewportPortal,
} from "@xyflow/react";
import { CodeXml, Equal, FileCode, GitFork, RefreshCw, Repeat, Split, Workflow } from "lucide-react";

const NODE_W = 240;
const PALETTE_MIME = "application/x-millrace-step";
const READABLE_ZOOM = 0.65; // below this a step's 13 px label is under 9 px: fit no further
const FIT_PADDING = 24;
const MINIMAP_STEPS = 8; // a minimap for graphs with more steps than this

/** The box around every node, from the sizes the layout gives them. */
function graphBounds(nodes) {
  let [left, top, right, bottom] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const node of nodes) {
    const width = node.width || NODE_W;
    const height = node.height || (node.data && node.data.height) || 40;
    left = Math.min(left, node.position.x);
    top = Math.min(top, node.position.y);
    right = Math.max(right, node.position.x + width);
    bottom = Math.max(bottom, node.position.y + height);
  }
  return left === Infinity ? null : { x: left, y: top, width: right - left, height: bottom - top };
}

/** The viewport that shows the whole graph (at most at zoom 1), or, when that would make
 *  it unreadable, its top at the readable zoom, centred across when it fits across. */
function viewportFor(bounds, width, height) {
  const fit = Math.min(1, (width - 2 * FIT_PADDING) / bounds.width, (height - 2 * FIT_PADDING) / bounds.height);
  const zoom = Math.max(fit, READABLE_ZOOM);
  const across = bounds.width * zoom <= width - 2 * FIT_PADDING;
  const x = across ? (width - bounds.width * zoom) / 2 - bounds.x * zoom : FIT_PADDING - bounds.x * zoom;
  const down = bounds.height * zoom <= height - 2 * FIT_PADDING;
  const y = down ? (height - bounds.height * zoom) / 2 - bounds.y * zoom : FIT_PADDING - bounds.y * zoom;
  return { x, y, zoom };
}

/** The steps of a graph, as one string: it changes when a step comes or goes. */
function stepsOf(nodes) {
  return (nodes || []).filter((node) => node.type === "step").map((node) => node.id).sort().join("|");
}

const STATUS_COLORS = {
  running: ["#3b82f6", "#eff6ff"],
  success: ["#16a34a", "#f0fdf4"],
  failure: ["#dc2626", "#fef2f2"],
  skipped: ["#9ca3af", "#f9fafb"],
  suspended: ["#9333ea", "#faf5ff"],
  waiting: ["#9333ea", "#faf5ff"],
  queued: ["#d97706", "#fffbeb"],
};

// Drawn icons, not characters: a glyph the page's fonts lack (the branch's "⑂") showed as
// an empty box.
const KIND_ICONS = {
  rawscript: CodeXml, script: FileCode, flow: Workflow, forloopflow: Repeat, whileloopflow: RefreshCw,
  branchone: Split, branchall: GitFork, identity: Equal,
};

function KindIcon({ kind }) {
  const Icon = KIND_ICONS[kind];
  return (
    <span style={{ width: 18, display: "flex", justifyContent: "center", color: "#4f46e5" }} data-kind-icon={kind}>
      {Icon ? <Icon size={16} strokeWidth={2} /> : "•"}
    </span>
  );
}

function StepNode({ data, selected }) {
  const status = data.status || "";
  const [border, background] = STATUS_COLORS[status] || ["#c7c9d1", "#ffffff"];
  const style = {
    width: NODE_W, height: data.height, boxSizing: "border-box", borderRadius: 8,
    border: `${selected ? 2 : 1}px solid ${selected ? "#4f46e5" : border}`,
    background, display: "flex", alignItems: "center", gap: 8, padding: "0 10px",
    fontSize: 13, fontFamily: "var(--default-font-family, sans-serif)",
    boxShadow: status === "running" ? "0 0 0 3px rgba(59,130,246,.25)" : "none",
  };
  return (
    <div style={style} data-step={data.step_id} data-status={status} data-kind={data.kind}>
      <Handle type="target" position={Position.Top} id="in" style={{ opacity: 0 }} />
      <KindIcon kind={data.kind} />
      <div style={{ display: "flex", flexDirection: "column", minWidth: 0, flex: 1 }}>
        <span style={{ fontFamily: "monospace", fontSize: 11, color: "#6b7280" }}>{data.step_id}</span>
        <span style={{ overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{data.label}</span>
      </div>
      {data.duration ? <span style={{ fontSize: 11, color: "#6b7280" }}>{data.duration}</span> : null}
      <Handle type="source" position={Position.Bottom} id="out" style={{ opacity: 0 }} />
      <Handle type="source" position={Position.Right} id="data-out" style={{ opacity: 0 }} />
      <Handle type="target" position={Position.Right} id="data-in" style={{ opacity: 0 }} />
    </div>
  );
}

function MarkNode({ data, type }) {
  const style = {
    width: NODE_W, height: data.height, boxSizing: "border-box", borderRadius: 14,
    border: "1px dashed #a5a8b8", background: type === "io" ? "#eef2ff" : "#f6f7f9",
    display: "flex", alignItems: "center", justifyContent: "center",
    fontSize: 12, color: "#4b5063", padding: "0 8px",
    whiteSpace: "nowrap", overflow: "hidden", textOverflow: "ellipsis",
  };
  return (
    <div style={style} data-mark={type}>
      <Handle type="target" position={Position.Top} id="in" style={{ opacity: 0 }} />
      <span style={{ overflow: "hidden", textOverflow: "ellipsis" }}>{data.label}</span>
      <Handle type="source" position={Position.Bottom} id="out" style={{ opacity: 0 }} />
    </div>
  );
}

function FrameNode() {
  return <div style={{ width: "100%", height: "100%", borderRadius: 12, background: "rgba(99,102,241,.05)",
                       border: "1px solid rgba(99,102,241,.18)" }} />;
}

const NODE_TYPES = { step: StepNode, end: MarkNode, label: MarkNode, io: MarkNode, frame: FrameNode };

/** The slot nearest to a point; the same rule as `app.views.flow_graph.drop_target`. */
function nearestSlot(slots, x, y, moving) {
  let best = null;
  let bestDistance = Infinity;
  for (const slot of slots || []) {
    if (moving) {
      if ((slot.ancestors || []).includes(moving.step_id)) continue;
      if (slot.container === moving.container && (slot.index === moving.index || slot.index === moving.index + 1)) continue;
    }
    const distance = Math.hypot(slot.x - x, slot.y - y);
    if (distance < bestDistance) {
      best = slot;
      bestDistance = distance;
    }
  }
  return best;
}

/** Where a drop would land: a bar drawn over the graph, not a node of it. As a node it was
 *  measured anew on every pointer move, and each measure re-rendered the nodes, which made
 *  the browser report a "ResizeObserver loop" many times a drag. */
function DropMarker({ slot }) {
  if (!slot) return null;
  const style = { position: "absolute", transform: `translate(${slot.x - NODE_W / 2}px, ${slot.y - 3}px)`,
                  width: NODE_W, height: 6, borderRadius: 3, background: "#4f46e5", zIndex: 1000,
                  boxShadow: "0 0 0 3px rgba(79,70,229,.25)", pointerEvents: "none" };
  return <div data-drop-marker="" style={style} />;
}

function Canvas(props) {
  const { nodes: given, edges, slots, version, statuses, durations, selected, readOnly } = props;
  const [nodes, setNodes] = useState(given || []);
  const [target, setTarget] = useState(null);
  const flow = useReactFlow();
  const wrapper = useRef(null);

  useEffect(() => {
    setNodes(given || []);
    setTarget(null);
  }, [version]); // eslint-disable-line react-hooks/exhaustive-deps

  const fitted = useRef({ key: null, steps: null, userMoved: false });
  useEffect(() => {
    const last = fitted.current;
    const steps = stepsOf(given);
    const opened = last.key !== (props.fitKey || "");
    if (!opened && (steps === last.steps || last.userMoved)) {
      last.steps = steps;
      return;
    }
    fitted.current = { key: props.fitKey || "", steps, userMoved: false };
    const bounds = graphBounds(given || []);
    const box = wrapper.current && wrapper.current.getBoundingClientRect();
    if (!bounds || !box || !box.width || !box.height) return;
    flow.setViewport(viewportFor(bounds, box.width, box.height));
  }, [version, props.fitKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const onMoveStart = useCallback((event) => {
    if (event) fitted.current.userMoved = true; // a wheel, a drag or a pinch: not our own setViewport
  }, []);

  const shown = useMemo(() => {
    const list = nodes.map((node) => {
      if (readOnly) node = { ...node, draggable: false, selectable: false };
      if (node.type !== "step") return node;
      const id = node.data.step_id;
      const status = (statuses || {})[id] || "";
      const duration = (durations || {})[id] || "";
      const isSelected = id === selected;
      if (status === (node.data.status || "") && duration === (node.data.duration || "") && isSelected === !!node.selected) return node;
      return { ...node, selected: isSelected, data: { ...node.data, status, duration } };
    });
    return list;
  }, [nodes, statuses, durations, selected, readOnly]);

  const onNodesChange = useCallback((changes) => {
    const kept = changes.filter((change) => change.type !== "remove" && change.type !== "select");
    if (kept.length) setNodes((current) => applyNodeChanges(kept, current));
  }, []);

  const center = (node) => ({
    x: node.position.x + NODE_W / 2,
    y: node.position.y + ((node.data && node.data.height) || 0) / 2,
  });

  const onNodeDrag = useCallback((event, node) => {
    if (node.type !== "step") return;
    const point = center(node);
    setTarget(nearestSlot(slots, point.x, point.y, node.data));
  }, [slots]);

  const onNodeDragStop = useCallback((event, node) => {
    if (node.type !== "step") return;
    const point = center(node);
    const slot = nearestSlot(slots, point.x, point.y, node.data);
    setTarget(null);
    const original = (given || []).find((n) => n.id === node.id);
    const moved = original && Math.hypot(original.position.x - node.position.x, original.position.y - node.position.y) > 8;
    if (!slot || !moved || !props.onMoveStep) {
      setNodes(given || []);
      return;
    }
    props.onMoveStep({ step_id: node.data.step_id, container: slot.container, index: slot.index });
  }, [slots, given, props.onMoveStep]);

  const dropPoint = (event) => flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });

  const onDragOver = useCallback((event) => {
    if (!Array.from(event.dataTransfer.types || []).includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    const point = dropPoint(event);
    const slot = nearestSlot(slots, point.x, point.y, null);
    setTarget((current) => (current && slot && current.container === slot.container && current.index === slot.index ? current : slot));
  }, [slots, flow]);

  const onDragLeave = useCallback((event) => {
    if (wrapper.current && !wrapper.current.contains(event.relatedTarget)) setTarget(null);
  }, []);

  const onDrop = useCallback((event) => {
    const kind = event.dataTransfer.getData(PALETTE_MIME);
    if (!kind) return;
    event.preventDefault();
    const point = dropPoint(event);
    const slot = nearestSlot(slots, point.x, point.y, null);
    setTarget(null);
    if (slot && props.onDropItem) {
      props.onDropItem({ kind, container: slot.container, index: slot.index,
                         x: Math.round(point.x), y: Math.round(point.y) });
    }
  }, [slots, flow, props.onDropItem]);

  const onNodeClick = useCallback((event, node) => {
    if (node.type === "step" && props.onSelect) props.onSelect(node.data.step_id);
  }, [props.onSelect]);

  const onPaneClick = useCallback(() => {
    if (props.onSelect) props.onSelect("");
  }, [props.onSelect]);

  const onKeyDown = useCallback((event) => {
    const tag = (event.target && event.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || (event.target && event.target.isContentEditable)) return;
    if ((event.key === "Delete" || event.key === "Backspace") && selected && props.onDeleteStep) {
      event.preventDefault();
      props.onDeleteStep(selected);
      return;
    }
    const key = (event.key || "").toLowerCase();
    if (!(event.ctrlKey || event.metaKey) || (key !== "z" && key !== "y")) return;
    const redo = key === "y" || event.shiftKey;
    const handler = redo ? props.onRedo : props.onUndo;
    if (handler) {
      event.preventDefault();
      handler();
    }
  }, [selected, props.onDeleteStep, props.onUndo, props.onRedo]);

  const editing = !readOnly;
  return (
    <div ref={wrapper} style={{ width: "100%", height: "100%" }}
         onDragOver={editing ? onDragOver : undefined} onDragLeave={editing ? onDragLeave : undefined}
         onDrop={editing ? onDrop : undefined} onKeyDown={editing ? onKeyDown : undefined} tabIndex={0}
         data-canvas-version={version} data-testid="flow-canvas" data-read-only={readOnly ? "true" : "false"}
         data-drop-target={target ? `${target.container}:${target.index}` : ""}
         data-slots={(slots || []).length} data-fit-key={props.fitKey || ""}>
      <ReactFlow
        nodes={shown}
        edges={edges || []}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onNodeDrag={editing ? onNodeDrag : undefined}
        onNodeDragStop={editing ? onNodeDragStop : undefined}
        onNodeClick={onNodeClick /* read-only too: a run's page opens the step clicked */}
        onPaneClick={editing ? onPaneClick : undefined}
        nodesDraggable={editing}
        elementsSelectable={editing}
        deleteKeyCode={null}
        nodesConnectable={false}
        onMoveStart={onMoveStart}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
      >
        <ViewportPortal><DropMarker slot={target} /></ViewportPortal>
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
        {(given || []).filter((node) => node.type === "step").length > MINIMAP_STEPS
          ? <MiniMap pannable zoomable ariaLabel="Map of the flow" style={{ width: 140, height: 100 }} />
          : null}
      </ReactFlow>
    </div>
  );
}

/** Palette items (any element with data-palette-kind) start a drag that carries their kind. */
function usePaletteDrag() {
  useEffect(() => {
    const onDragStart = (event) => {
      const item = event.target && event.target.closest && event.target.closest("[data-palette-kind]");
      if (!item) return;
      event.dataTransfer.setData(PALETTE_MIME, item.getAttribute("data-palette-kind"));
      event.dataTransfer.effectAllowed = "copy";
    };
    document.addEventListener("dragstart", onDragStart);
    return () => document.removeEventListener("dragstart", onDragStart);
  }, []);
}

export default function FlowCanvas(props) {
  usePaletteDrag();
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
