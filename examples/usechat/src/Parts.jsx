// Rendering of a UIMessage's parts, in the order they happened: reasoning (collapsible), tool
// calls with their input and output, sources as links, files, data parts and text.

function toolName(part) {
  return part.type === "dynamic-tool" ? part.toolName : part.type.slice("tool-".length);
}

function json(v) {
  if (v === undefined) return "";
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

// Approval shows Approve / Deny while a tool call waits for a person (ai 6 tool approvals),
// then the answer.
function Approval({ part, onApproval }) {
  const a = part.approval;
  if (!a) return null;
  if (part.state === "approval-requested") {
    return (
      <span className="approval">
        <button type="button" className="approve" onClick={() => onApproval && onApproval(a.id, true)}>Approve</button>
        <button type="button" className="deny" onClick={() => onApproval && onApproval(a.id, false)}>Deny</button>
      </span>
    );
  }
  if (typeof a.approved !== "boolean") return null;
  return <span className="approval-answer"> · {a.approved ? "approved" : "denied"}{a.reason ? " (" + a.reason + ")" : ""}</span>;
}

function Tool({ part, onApproval }) {
  const name = toolName(part);
  const done = part.state === "output-available";
  return (
    <div className="part tool" data-part="tool" data-tool={name} data-state={part.state} data-call-id={part.toolCallId}>
      <span className="tool-name">{name}</span>
      <span className="tool-input">({part.state === "input-streaming" ? json(part.input) + "…" : json(part.input)})</span>
      {done && <span className="tool-output"> → {json(part.output)}</span>}
      {part.state === "output-error" && <span className="tool-error"> ✗ {part.errorText}</span>}
      {part.state === "output-denied" && <span className="tool-error"> denied</span>}
      <Approval part={part} onApproval={onApproval} />
    </div>
  );
}

function Reasoning({ part }) {
  const streaming = part.state === "streaming";
  return (
    <details className="part reasoning" data-part="reasoning" open={streaming || undefined}>
      <summary>{streaming ? "Thinking…" : "Reasoning"}</summary>
      <div className="reasoning-text">{part.text}</div>
    </details>
  );
}

export function Part({ part, index, parts, onApproval }) {
  switch (part.type) {
    case "text":
      return <div className="part text" data-part="text">{part.text}</div>;
    case "reasoning":
      return <Reasoning part={part} />;
    case "source-url":
      return (
        <a className="part source" data-part="source-url" href={part.url} target="_blank" rel="noreferrer noopener">
          {part.title || part.url}
        </a>
      );
    case "source-document":
      return <span className="part source" data-part="source-document">{part.title}{part.filename ? " (" + part.filename + ")" : ""}</span>;
    case "file":
      if (typeof part.mediaType === "string" && part.mediaType.startsWith("image/")) {
        return <img className="part file" data-part="file" src={part.url} alt={part.filename || "image"} />;
      }
      return <a className="part file" data-part="file" href={part.url} target="_blank" rel="noreferrer noopener">{part.filename || part.mediaType}</a>;
    case "step-start":
      // A boundary between the model's steps; the first one opens the reply and shows nothing.
      return index > 0 && parts.slice(0, index).some((p) => p.type !== "step-start") ? <hr className="part step" data-part="step-start" /> : null;
    default:
      if (part.type === "dynamic-tool" || part.type.startsWith("tool-")) return <Tool part={part} onApproval={onApproval} />;
      if (part.type.startsWith("data-")) {
        return <pre className="part data" data-part={part.type}>{part.type.slice(5)}: {json(part.data)}</pre>;
      }
      return null;
  }
}
