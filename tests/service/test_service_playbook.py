"""Stakeholder playbooks for an alert: in the console's alert page (audience tabs swapped
by htmx, plain links without it) and at ``GET /v1/alerts/{id}/playbook``; each read is
confined by role and platform and audited; no message text is part of it."""

from __future__ import annotations

import io
import re

from service_testkit import RISKY_MESSAGES

from cosea.report.hotlines import AUDIENCES
from cosea.service import media
from cosea.service.playbooks import AUDIENCE_ORDER

MESSAGE_TEXTS = [text for _sender, text in RISKY_MESSAGES if len(text) > 12]


def _playbook_section(html: str) -> str:
    found = re.search(r'<section class="card playbook".*?</section>', html, re.DOTALL)
    assert found, "no playbook section"
    return found.group(0)


def _alert(service, conversation: str = "pb-conv", platform: str = "plat") -> int:
    writer = service.key(["messages:write"], platform=platform)
    return service.post_conversation(writer, conversation)["alert"]["id"]


def _alert_with_matched_media(service) -> int:
    from cosea.media.demo import benign_picture

    platform = service.key(["messages:write", "media:match", "lists:write"])
    alert_id = service.post_conversation(platform, "pb-media")["alert"]["id"]
    service.client.post("/v1/lists", json={"name": "pb-list"}, headers=platform)
    picture = io.BytesIO()
    benign_picture(8300, (320, 240)).save(picture, format="JPEG", quality=90)
    data = picture.getvalue()
    service.client.post(
        "/v1/lists/pb-list/import",
        files={"file": ("h.txt", io.BytesIO(media.hash_upload(data).hashes["sha256"].encode()))},
        data={"format": "text", "signal": "sha256", "category": "known-abuse"},
        headers=platform,
    )
    matched = service.client.post(
        "/v1/media:match",
        files={"file": ("p.jpg", io.BytesIO(data), "image/jpeg")},
        data={"conversation_id": "pb-media"},
        headers=platform,
    ).json()
    assert matched["matches"], matched
    return alert_id


def test_every_audience_of_the_playbooks_has_a_tab():
    assert sorted(AUDIENCE_ORDER) == sorted(AUDIENCES)


def test_alert_page_shows_the_playbook_and_switches_audience(service):
    alert_id = _alert(service)
    client, _ = service.login("reviewer")
    page = client.get(f"/console/alerts/{alert_id}")
    assert page.status_code == 200
    section = _playbook_section(page.text)
    assert 'data-audience="platform"' in section and "What to do" in section
    assert "Platform procedure" in section
    for audience in AUDIENCE_ORDER:
        assert f'id="playbook-tab-{audience}"' in section
        # htmx swaps the section; the plain link loads the page with the same choice.
        assert f'hx-get="/console/alerts/{alert_id}/playbook?audience={audience}"' in section
        assert f'href="/console/alerts/{alert_id}?audience={audience}#playbook"' in section
    assert re.search(r'<a class="mono small" href="https://[^"]+"', section)  # where to report
    assert "Urgent:" in section  # the demo conversation threatens: extortion steps come first
    assert 'href="/console/matrix/T0' in section

    fragment = client.get(
        f"/console/alerts/{alert_id}/playbook?audience=parents", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section class="card playbook"')
    assert "<html" not in fragment.text  # a fragment, not a page
    assert 'data-audience="parents"' in fragment.text
    assert "for parents and carers" in fragment.text
    assert re.search(r'id="playbook-tab-parents"[^>]*\n?[^>]*aria-selected="true"', fragment.text)
    assert not any(text in fragment.text for text in MESSAGE_TEXTS)  # least data: no messages

    police = client.get(
        f"/console/alerts/{alert_id}/playbook?audience=police&country=us",
        headers={"HX-Request": "true"},
    ).text
    assert 'data-audience="law-enforcement"' in police and "Investigator briefing" in police
    assert "https://report.cybertip.org/" in police
    # The chosen country rides along on the other tabs.
    assert f"/console/alerts/{alert_id}/playbook?audience=schools&amp;country=US" in police

    # Without htmx (a reload, a bookmark) the fragment's address leads to the whole page.
    direct = client.get(
        f"/console/alerts/{alert_id}/playbook?audience=schools", follow_redirects=False
    )
    assert direct.status_code == 303
    assert direct.headers["location"] == f"/console/alerts/{alert_id}?audience=schools#playbook"
    schools = client.get(f"/console/alerts/{alert_id}?audience=schools").text
    assert 'data-audience="schools"' in _playbook_section(schools)


def test_bad_choices_fall_back_with_the_reason(service):
    alert_id = _alert(service)
    client, _ = service.login("reviewer")
    page = client.get(f"/console/alerts/{alert_id}?audience=nobody&country=zz")
    assert page.status_code == 200
    section = _playbook_section(page.text)
    assert 'data-audience="platform"' in section
    problems = re.findall(r'class="alert-box error playbook-problem"[^>]*>([^<]+)<', section)
    assert any("unknown audience" in p for p in problems)
    assert any("no reporting bodies listed for" in p for p in problems)
    missing = client.get("/console/alerts/999/playbook", headers={"HX-Request": "true"})
    assert missing.status_code == 404


def test_matched_media_adds_the_media_steps(service):
    alert_id = _alert_with_matched_media(service)
    reader = service.key(["alerts:read"])
    result = service.client.get(f"/v1/alerts/{alert_id}/playbook", headers=reader).json()
    assert result["basis"]["media_matched"] is True
    assert any("hash list" in step for step in result["playbook"]["steps"])
    # An analyst, who may not see media, still gets the same steps (only the match is used).
    analyst, _ = service.login("analyst")
    section = _playbook_section(analyst.get(f"/console/alerts/{alert_id}").text)
    assert "Media matched a hash list" in section


def test_playbook_api_roles_platforms_and_audit(service):
    alert_id = _alert(service)
    reader = service.key(["alerts:read"])
    response = service.client.get(
        f"/v1/alerts/{alert_id}/playbook?audience=parents&country=gb", headers=reader
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["alert_id"] == alert_id and body["audience"] == "parents"
    assert body["country"] == "GB"
    assert [a["id"] for a in body["audiences"]] == list(AUDIENCE_ORDER)
    assert body["basis"]["class"] and body["basis"]["media_matched"] is False
    assert "T0401" in body["basis"]["techniques"]
    playbook = body["playbook"]
    assert playbook["audience"] == "parents" and playbook["steps"]
    bodies = {b["id"]: b for b in playbook["report_to"]}
    assert "gb-iwf" in bodies and bodies["gb-iwf"]["url"].startswith("https://")
    assert not any(text in response.text for text in MESSAGE_TEXTS)

    default = service.client.get(f"/v1/alerts/{alert_id}/playbook", headers=reader).json()
    assert default["audience"] == "platform"
    assert default["country"] is None
    assert all("--country" not in note for note in default["playbook"]["notes"])

    refused = {
        "no alerts:read scope": service.client.get(
            f"/v1/alerts/{alert_id}/playbook", headers=service.key(["messages:write"])
        ),
        "no credentials": service.client.get(f"/v1/alerts/{alert_id}/playbook"),
    }
    assert refused["no alerts:read scope"].status_code == 403
    assert refused["no credentials"].status_code == 401
    for role in ("auditor", "admin"):
        client, _ = service.login(role)
        denied = client.get(f"/v1/alerts/{alert_id}/playbook")
        assert denied.status_code == 403, role
        assert denied.headers["content-type"].startswith("application/problem+json")
        assert client.get(f"/console/alerts/{alert_id}/playbook").status_code == 403
    analyst, _ = service.login("analyst")
    assert analyst.get(f"/v1/alerts/{alert_id}/playbook").status_code == 200

    # A key sees only its own platform's alerts.
    other = service.key(["alerts:read"], platform="other")
    assert service.client.get(f"/v1/alerts/{alert_id}/playbook", headers=other).status_code == 404

    bad_audience = service.client.get(
        f"/v1/alerts/{alert_id}/playbook?audience=nobody", headers=reader
    )
    assert bad_audience.status_code == 422 and "unknown audience" in bad_audience.json()["detail"]
    bad_country = service.client.get(f"/v1/alerts/{alert_id}/playbook?country=ZZ", headers=reader)
    assert bad_country.status_code == 422 and "'ZZ'" in bad_country.json()["detail"]

    auditor, _ = service.login("auditor")
    entries = auditor.get("/v1/audit?action=alert.playbook&limit=100").json()["items"]
    reads = [e for e in entries if e["target_id"] == str(alert_id)]
    by_actor = {(e["actor"], e["details"]["audience"]) for e in reads}
    assert any(actor.startswith("apikey:") and aud == "parents" for actor, aud in by_actor)
    assert ("user:analyst1", "platform") in by_actor
    parents = next(e for e in reads if e["details"]["audience"] == "parents")
    assert parents["details"] == {"via": "api", "audience": "parents", "country": "GB"}
    assert auditor.get("/v1/audit/verify").json()["ok"] is True


def test_console_playbook_reads_are_audited(service):
    alert_id = _alert(service)
    client, _ = service.login("reviewer", "rosa")
    client.get(
        f"/console/alerts/{alert_id}/playbook?audience=law-enforcement",
        headers={"HX-Request": "true"},
    )
    auditor, _ = service.login("auditor")
    entries = auditor.get("/v1/audit?actor=user:rosa&limit=100").json()["items"]
    playbook_reads = [e for e in entries if e["action"] == "alert.playbook"]
    assert playbook_reads and playbook_reads[0]["details"]["via"] == "console"
    assert playbook_reads[0]["details"]["audience"] == "law-enforcement"


def test_a_broken_report_policy_leaves_the_alert_page_working(service, cosea_home):
    alert_id = _alert(service)
    (cosea_home / "report-policy.yaml").write_text("country: [\n", encoding="utf-8")
    client, _ = service.login("reviewer")
    page = client.get(f"/console/alerts/{alert_id}")
    assert page.status_code == 200 and '<mark class="evidence"' in page.text
    section = _playbook_section(page.text)
    assert "The playbook could not be built" in section and "report-policy.yaml" in section
    assert 'id="playbook-tab-parents"' in section  # the choice stays; the reason is shown
    reader = service.key(["alerts:read"])
    refused = service.client.get(f"/v1/alerts/{alert_id}/playbook", headers=reader)
    assert refused.status_code == 422 and "report-policy.yaml" in refused.json()["detail"]
    # A country given explicitly does not need the policy.
    chosen = service.client.get(f"/v1/alerts/{alert_id}/playbook?country=GB", headers=reader)
    assert chosen.status_code == 200
