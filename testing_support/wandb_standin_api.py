"""The stand-in W&B server's answers (testing_support/wandb_endpoint.py, `wandb_standin`): W&B's GraphQL operations
as the real `wandb` 0.31 client asks them (its `wandb-core` service: the run's start, run files, artifacts; its Python
side: an artifact's type), its file stream and uploads, each kept in the server's record of the run (`server.run(id)`).
An operation not listed gets an empty answer. Standard library only."""

from __future__ import annotations

import json
import re
from typing import Any, Callable


def operation(query: str) -> str | None:
    found = re.search(r"\b(?:query|mutation)\s+(\w+)", query)
    return found.group(1) if found else None


def file_stream(server: Any, path: str, body: dict) -> dict:
    run = server.run(path.split("/")[-2])
    for name, chunk in (body.get("files") or {}).items():
        offset = int(chunk.get("offset") or 0)
        lines = chunk.get("content") or []
        if name == "wandb-history.jsonl":
            for i, line in enumerate(lines):
                run.history[offset + i] = json.loads(line)
        elif name == "wandb-summary.json" and lines:
            run.summary = json.loads(lines[-1])
    if body.get("exitcode") is not None:
        run.exitcode = int(body["exitcode"])
    return {"exitcode": None, "limits": {}}


def upload(server: Any, path: str) -> None:
    parts = path.split("/")  # /upload/run/<run id>/<file> or /upload/artifact/<id>/<name>
    if len(parts) >= 5 and parts[2] == "run":
        server.run(parts[3]).files.add("/".join(parts[4:]))


def _bucket(server: Any, variables: dict) -> dict:
    name = variables.get("name") or variables.get("id") or "run"
    run = server.run(name)
    return {
        "id": f"bucket-{name}",
        "name": name,
        "displayName": variables.get("displayName") or name,
        "description": "",
        "config": "{}",
        "sweepName": None,
        "project": {"id": "project-1", "name": variables.get("project") or "p", "entity": _entity(variables)},
        "historyLineCount": run.history_lines,
    }


def _entity(variables: dict) -> dict:
    return {"id": "entity-1", "name": variables.get("entity") or variables.get("entityName") or "standin"}


def _resume_status(server: Any, variables: dict) -> dict:
    name = variables.get("name")
    known = server.runs.get(name)
    bucket = None
    if known is not None and (known.history or known.summary):
        bucket = {
            "id": f"bucket-{name}",
            "name": name,
            "summaryMetrics": json.dumps(known.summary),
            "displayName": name,
            "logLineCount": 0,
            "historyLineCount": known.history_lines,
            "eventsLineCount": 0,
            "historyTail": json.dumps([json.dumps(known.history[max(known.history)])] if known.history else []),
            "eventsTail": "[]",
            "config": "{}",
            "tags": [],
            "notes": None,
            "wandbConfig": json.dumps({"t": {}}),  # a run that started: W&B resumes only such a run
        }
    return {
        "model": {"id": "project-1", "name": variables.get("project"), "entity": _entity(variables), "bucket": bucket}
    }


def _create_artifact(server: Any, variables: dict) -> dict:
    spec = variables.get("input") or {}
    with server.lock:
        artifact_id = f"artifact-{len(server.artifacts) + 1}"
        server.artifacts[artifact_id] = (spec.get("artifactCollectionName") or "artifact", spec.get("runName"))
    return {
        "createArtifact": {
            "artifact": {
                "id": artifact_id,
                "state": "PENDING",
                "artifactSequence": {"id": "seq-1", "latestArtifact": None},
            }
        }
    }


def _artifact_files(server: Any, variables: dict) -> dict:
    files = (variables.get("input") or {}).get("artifactFiles") or []
    edges = [
        {
            "node": {
                "storagePath": f"store/{f.get('md5')}",
                "uploadUrl": f"{server.url}/upload/artifact/{f.get('artifactID')}/{f.get('name')}",
                "uploadHeaders": [],
                "uploadMultipartUrls": None,
                "artifact": {"id": f.get("artifactID")},
            }
        }
        for f in files
    ]
    return {"createArtifactFiles": {"files": {"edges": edges}}}


def _manifest(server: Any, key: str, variables: dict) -> dict:
    manifest_id = variables.get("artifactManifestID") or f"manifest-{variables.get('artifactID')}"
    file = {
        "id": f"file-{manifest_id}",
        "uploadUrl": f"{server.url}/upload/manifest/{manifest_id}",
        "uploadHeaders": [],
    }
    return {key: {"artifactManifest": {"id": manifest_id, "file": file}}}


def _commit(server: Any, variables: dict) -> dict:
    artifact_id = variables.get("artifactID")
    with server.lock:
        name, run_name = server.artifacts.get(artifact_id, ("?", None))
    if run_name:
        server.run(run_name).artifacts.append(name)
    return {"commitArtifact": {"artifact": {"id": artifact_id, "digest": ""}}}


_GRAPHQL: dict[str, Callable[[Any, dict], dict]] = {
    "Viewer": lambda s, v: {
        "viewer": {
            "id": "user-1",
            "entity": "standin",
            "username": "standin",
            "email": "standin@example.invalid",
            "flags": "{}",
            "teams": {"edges": []},
        }
    },
    "ServerFeaturesQuery": lambda s, v: {"serverInfo": {"features": []}},
    "UpsertBucket": lambda s, v: {"upsertBucket": {"bucket": _bucket(s, v), "inserted": True}},
    "RunResumeStatus": _resume_status,
    "CreateRunFiles": lambda s, v: {
        "createRunFiles": {
            "runID": f"bucket-{v.get('run')}",
            "uploadHeaders": [],
            "files": [{"name": f, "uploadUrl": f"{s.url}/upload/run/{v.get('run')}/{f}"} for f in v.get("files") or []],
        }
    },
    "MarkRunFilesUploaded": lambda s, v: {"markRunFilesUploaded": {"success": True}},
    "CreateArtifact": _create_artifact,
    "CreateArtifactFiles": _artifact_files,
    "CreateArtifactManifest": lambda s, v: _manifest(s, "createArtifactManifest", v),
    "UpdateArtifactManifest": lambda s, v: _manifest(s, "updateArtifactManifest", v),
    "CommitArtifact": _commit,
    "UseArtifact": lambda s, v: {"useArtifact": {"artifact": {"id": "artifact-used"}}},
    "FetchArtifactDigestAlgorithm": lambda s, v: {"project": None},
    "XXHashDigestsEnabled": lambda s, v: {"entity": {"xxhashDigestsEnabled": False}},
    "OrgFeatureFlags": lambda s, v: {"organization": None},
    "ClientIDMapping": lambda s, v: {"clientIDMapping": None},
    "FetchOrgEntityFromEntity": lambda s, v: {"entity": None},
    "OrganizationCoreWeaveOrganizationID": lambda s, v: {"entity": None},
    "ArtifactType": lambda s, v: {"project": None},
}


def graphql(server: Any, op: str | None, variables: dict) -> dict:
    return _GRAPHQL.get(op or "", lambda s, v: {})(server, variables)
