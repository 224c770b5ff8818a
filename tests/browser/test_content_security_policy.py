"""The strict Content Security Policy in a real browser: every console page works under it and logs no
violation; an inline script is refused (and the violation is seen by the `console` fixture)."""
from __future__ import annotations

from models import Case, new_case_code, utcnow

PAGES = ("/console/orders/", "/console/technicians", "/console/technicians/new", "/console/residents",
         "/console/officers", "/console/rota/", "/console/cases/", "/console/import/", "/console/outbox/",
         "/console/reports/", "/console/reports/child/", "/console/softphone/", "/console/audit/", "/console/login")


def test_every_console_page_is_served_with_the_policy_and_logs_no_violation(console, demo, app):
    with app.extensions["hotline"].session_factory() as session:
        case = Case(code=new_case_code(session), status="voicemail", caller="+8613904760099",
                    call_sid="CA" + "c" * 32, created_at=utcnow())
        session.add(case)
        session.commit()
        code = case.code
    admin = console.page("admin")
    for path in (*PAGES, f"/console/cases/{code}", "/console/orders/?status=all"):
        answer = admin.goto(path)
        assert answer.ok, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
        admin.wait_for_load_state("networkidle")
    assert console.csp_errors == []


def test_an_inline_script_is_refused_and_its_violation_logged(console):
    page = console.page()
    page.goto("/console/login")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.inlineRan = true'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.inlineRan === undefined")
    assert any("inline script" in error for error in console.csp_errors), console.csp_errors
    console.csp_errors.clear()  # the refusal was this test's point, not a page's fault
