"""--root on a docker-jitsi-meet checkout, where operators keep their .env: the image templates
(`*/rootfs/defaults/*`, rendered into CONFIG by each container), env.example and the documentation
beside it are not the deployment's configuration and must not be judged as such."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main

ENV = """\
# Security: generated with gen-passwords.sh
JICOFO_AUTH_PASSWORD=4f7c1d9e2b8a6053c1e7d4f9a2b6c8e0
JVB_AUTH_PASSWORD=9b2e7f4c1a8d6e3f0c5b9a7d2e4f6a1c
JIGASI_XMPP_PASSWORD=e1c4a7f0b3d6e9c2f5a8b1d4e7f0a3c6
JIBRI_RECORDER_PASSWORD=2d5f8a1c4e7b0d3f6a9c2e5b8d1f4a7c
JIBRI_XMPP_PASSWORD=7a0c3e6f9b2d5a8c1e4f7b0d3a6c9e2f
CONFIG=~/.jitsi-meet-cfg
HTTP_PORT=8000
HTTPS_PORT=8443
TZ=UTC
PUBLIC_URL=https://meet.example.org
ENABLE_AUTH=1
AUTH_TYPE=internal
JITSI_IMAGE_VERSION=stable-10655
"""
ENV_EXAMPLE = """\
# Copy to .env and run gen-passwords.sh
JICOFO_AUTH_PASSWORD=
JVB_AUTH_PASSWORD=
CONFIG=~/.jitsi-meet-cfg
HTTP_PORT=8000
HTTPS_PORT=8443
#PUBLIC_URL=https://meet.example.com
"""
COMPOSE = """\
services:
    web:
        image: jitsi/web:${JITSI_IMAGE_VERSION:-unstable}
        ports:
            - '${HTTP_PORT}:80'
            - '${HTTPS_PORT}:443'
        volumes:
            - ${CONFIG}/web:/config:Z
    prosody:
        image: jitsi/prosody:${JITSI_IMAGE_VERSION:-unstable}
        expose:
            - '5222'
            - '5280'
    jicofo:
        image: jitsi/jicofo:${JITSI_IMAGE_VERSION:-unstable}
        ports:
            - '127.0.0.1:8888:8888'
    jvb:
        image: jitsi/jvb:${JITSI_IMAGE_VERSION:-unstable}
        ports:
            - '10000:10000/udp'
"""
JVB_TEMPLATE = """\
{{ $JVB_AUTH_USER := .Env.JVB_AUTH_USER | default "jvb" -}}
{{ $XMPP_PORT := .Env.XMPP_PORT | default "5222" -}}
videobridge {
    apis {
        xmpp-client {
            configs {
                shard0 {
                    HOSTNAME = "{{ .Env.XMPP_SERVER }}"
                    PORT = "{{ $XMPP_PORT }}"
                    USERNAME = "{{ $JVB_AUTH_USER }}"
                    PASSWORD = "{{ .Env.JVB_AUTH_PASSWORD }}"
                }
            }
        }
    }
}
"""
PROSODY_TEMPLATE = """\
{{ $ENABLE_AUTH := .Env.ENABLE_AUTH | default "0" | toBool -}}
VirtualHost "{{ .Env.XMPP_DOMAIN }}"
{{ if $ENABLE_AUTH }}
    authentication = "{{ .Env.AUTH_TYPE }}"
{{ else }}
    authentication = "jitsi-anonymous"
{{ end }}
    external_service_secret = "{{ .Env.TURN_CREDENTIALS }}"
"""
CHANGELOG = """\
## stable-4416

* 2dd6b99 k8s: specify namespace for secret
* 0940605 doc: the default password is passw0rd, change it
"""


def _checkout(root: Path) -> None:
    files = {
        ".env": ENV, "env.example": ENV_EXAMPLE, "docker-compose.yml": COMPOSE, "CHANGELOG.md": CHANGELOG,
        "README.md": "Set JVB_AUTH_PASSWORD = passw0rd only for testing.\n",
        "jvb/rootfs/defaults/jvb.conf": JVB_TEMPLATE,
        "prosody/rootfs/defaults/conf.d/jitsi-meet.cfg.lua": PROSODY_TEMPLATE,
    }
    _write(root, files)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _report(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit):
        main(["--root", str(root), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    target: dict[str, Any] = json.loads(out.read_text())["targets"][0]
    return target


def test_templates_examples_and_docs_are_not_the_configuration(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "docker-jitsi-meet"
    _checkout(root)
    target = _report(root, tmp_path, capsys)
    roles = {c["key"]: c["role"] for c in target["collected"]}
    assert roles["/.env"] == "docker_env" and roles["/docker-compose.yml"] == "docker_compose"
    for key in ("/env.example", "/CHANGELOG.md", "/README.md", "/jvb/rootfs/defaults/jvb.conf",
                "/prosody/rootfs/defaults/conf.d/jitsi-meet.cfg.lua"):
        assert roles[key] is None, key
    found = {f["check_id"]: f for f in target["findings"]}
    # the operator's .env, not the example beside it
    assert found["docker.passwords_generated"]["status"] == "pass", found["docker.passwords_generated"]["message"]
    assert found["docker.auth_enabled"]["status"] == "pass", found["docker.auth_enabled"]["message"]
    # no "secret" of a template placeholder or a changelog line
    for check_id in ("secrets.weak_or_default", "secrets.reuse"):
        assert found[check_id]["status"] == "pass", found[check_id]["message"]
    # the templates are not reported as broken configuration either
    assert not [f for f in target["findings"] if "rootfs/defaults" in f["message"]]


# An Ansible role's templates: Jinja placeholders where the values go.
PROSODY_J2 = """\
VirtualHost "{{ jitsi_domain }}"
    authentication = "{{ prosody_auth | default('internal_hashed') }}"
{% if enable_lobby %}
    lobby_muc = "lobby.{{ jitsi_domain }}"
{% endif %}
Component "conference.{{ jitsi_domain }}" "muc"
"""
NGINX_J2 = """\
server {
    listen 443 ssl;
    server_name {{ jitsi_domain }};
    ssl_protocols {{ tls_protocols }};
{% for loc in extra_locations %}
    location {{ loc }} { return 404; }
{% endfor %}
}
"""


def _audit(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit) as exited:
        main(["--root", str(root), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    return int(exited.value.code or 0), json.loads(out.read_text())["targets"][0]


def test_a_repositorys_templates_are_named_not_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, the templates were parsed as prosody and nginx configuration: Lua syntax errors and exit 3
    (incomplete), and verdicts on `{{ tls_protocols }}`."""
    root = tmp_path / "ansible"
    _write(root, {"roles/jitsi/templates/prosody.cfg.lua.j2": PROSODY_J2,
                  "roles/jitsi/templates/jitsi-meet.conf.j2": NGINX_J2,
                  "roles/jitsi/templates/unrelated.txt.j2": "hello {{ name }}\n",
                  "roles/jitsi/tasks/main.yml": "- name: install\n  apt: name=jitsi-meet\n"})
    code, target = _audit(root, tmp_path, capsys)
    assert code == 0
    assert not [c for c in target["collected"] if c["role"]]
    assert not [f for f in target["findings"] if "syntax" in f["message"] or ".j2" in f["message"]]
    [templates] = [n for n in target["notes"] if n.startswith("templates not audited")]
    # the two that look like Jitsi configuration, not every template of the repository
    assert "prosody.cfg.lua.j2" in templates and "jitsi-meet.conf.j2" in templates
    assert "unrelated" not in templates
    assert any(n.startswith("no Jitsi configuration found in") for n in target["notes"])


def test_a_tree_with_configuration_has_no_such_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "docker-jitsi-meet"
    _checkout(root)
    _code, target = _audit(root, tmp_path, capsys)
    assert not [n for n in target["notes"] if n.startswith(("no Jitsi configuration", "templates not audited"))]


def test_on_a_live_host_a_template_name_is_still_audited() -> None:
    """nginx loads every file of sites-enabled, whatever its name: only offline trees leave templates out."""
    from auditor.discovery import Role, discover
    from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

    site = b"server {\n    listen 443 ssl;\n    server_name meet.example.org;\n}\n"
    for transport, expected in (("ssh", [Role.NGINX_SITE]), ("dir", [])):
        snap = Snapshot(target="t", transport=transport)
        snap.add(CollectedItem(key="/etc/nginx/sites-enabled/meet.conf.sample", kind="file",
                               status=ItemStatus.OK, content=site))
        assert [f.role for f in discover(snap)] == expected, transport


# What else a docker-jitsi-meet checkout holds beside the operator's .env.
GEN_PASSWORDS = """\
#!/usr/bin/env bash

function generatePassword() {
    openssl rand -hex 16
}

JICOFO_AUTH_PASSWORD=$(generatePassword)
JVB_AUTH_PASSWORD=$(generatePassword)
JIBRI_XMPP_PASSWORD=$(generatePassword)

sed -i.bak \\
    -e "s#JICOFO_AUTH_PASSWORD=.*#JICOFO_AUTH_PASSWORD=${JICOFO_AUTH_PASSWORD}#g" \\
    "$(dirname "$0")/.env"
"""
WORKFLOW = """\
name: Release
env:
  JITSI_REPO: ghcr.io/jitsi
jobs:
  base:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/login-action@v3
        with:
          registry: ${{ env.REGISTRY }}
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          tags: ${{ env.JITSI_REPO }}/base:stable
          build-args: |
            JITSI_REPO=${{ env.JITSI_REPO }}
"""
DOCKERFILE = "FROM debian:bookworm-slim\nUSER root\nRUN apt-get update\n"
MONGO = "services:\n  mongodb:\n    environment:\n      MONGO_INITDB_ROOT_USERNAME: root\n      MONGO_INITDB_ROOT_PASSWORD: root\n"


def test_a_checkouts_script_workflows_and_backup_are_not_its_secrets(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The upstream checkout failed secrets.weak_or_default (critical) and secrets.reuse: gen-passwords.sh was
    read as the .env (a broken one: exit 3, every docker check unclear), the workflow's `${{ secrets.X }}` was
    a weak secret, and the advisories resolved the images with the `.env.bak` that gen-passwords.sh leaves."""
    root = tmp_path / "docker-jitsi-meet"
    _checkout(root)
    extra = {"gen-passwords.sh": GEN_PASSWORDS, ".github/workflows/release.yml": WORKFLOW,
             "base/Dockerfile": DOCKERFILE, "rtcstats/mongodb/mongodb.yml": MONGO,
             ".env.bak": ENV.replace("JITSI_IMAGE_VERSION=stable-10655\n", "")}
    _write(root, extra)
    code, target = _audit(root, tmp_path, capsys)
    assert code == 1  # findings, not incomplete
    roles = {c["key"]: c["role"] for c in target["collected"]}
    assert roles["/gen-passwords.sh"] is None and roles["/.env"] == "docker_env"
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["docker.passwords_generated"]["status"] == "pass", found["docker.passwords_generated"]["message"]
    assert found["secrets.reuse"]["status"] == "pass", found["secrets.reuse"]["message"]
    weak = found["secrets.weak_or_default"]
    # the repository's own default credentials are still named; a Dockerfile's `USER root` is not one
    assert weak["status"] == "fail" and "mongodb.yml: MONGO_INITDB_ROOT_PASSWORD" in weak["message"], weak["message"]
    assert "USER" not in weak["message"] and "release.yml" not in weak["message"]  # CI definitions: not configuration
    assert "template expressions filled in at deploy time, not judged: " in weak["message"]
    assert "gen-passwords.sh: JICOFO_AUTH_PASSWORD" in weak["message"]
    assert not [f["check_id"] for f in target["findings"] if ".env.bak" in f["message"]]


def test_a_script_naming_the_variables_is_no_env_file_but_an_env_file_by_another_name_is() -> None:
    from auditor.discovery import Role, discover
    from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

    snap = Snapshot(target="t", transport="dir")
    for key, text in (("/srv/gen-passwords.sh", GEN_PASSWORDS), ("/srv/jitsi.env", ENV)):
        snap.add(CollectedItem(key=key, kind="file", status=ItemStatus.OK, content=text.encode()))
    assert [(f.path, f.role) for f in discover(snap)] == [("/srv/jitsi.env", Role.DOCKER_ENV)]


def test_on_a_live_host_a_template_expression_is_an_unrendered_secret() -> None:
    """`{{ turn_secret }}` in a running prosody is what coturn and prosody share: not a repository's pointer."""
    from tests.checks import base

    files = base.base_files()
    text = files[base.PROSODY_SITE]
    [secret] = re.findall(r'external_service_secret = "([^"]+)"', text)
    files[base.PROSODY_SITE] = text.replace(secret, "{{ turn_secret }}")
    found = base.findings(base.snapshot(files))["secrets.weak_or_default"]
    assert found.status.value == "fail" and "reference" in " ".join(e.excerpt or "" for e in found.evidence), found.message


def test_an_ansible_roles_commented_examples_and_template_values_are_not_its_secrets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An Ansible role failed secrets.weak_or_default (critical) with 197 "secrets" and secrets.reuse: its env
    template's `{{` was taken for a value, the templates (not judged) were still read for settings, and a
    template's example `component_secret = "secret"` made every word "secret" and "password" of the tree
    (a LICENSE line) a weak setting. A commented example in a vars file is no setting either."""
    root = tmp_path / "ansible-role-jitsi"
    files = {
        "templates/jvb/env.j2": "JVB_AUTH_PASSWORD={{ jitsi_jvb_auth_password }}\nJVB_PORT={{ jitsi_jvb_port }}\n",
        "templates/prosody/prosody.cfg.lua.j2": 'VirtualHost "{{ domain }}"\n    component_secret = "secret"\n',
        "tasks/main.yml": '- name: config\n  template:\n    src: "{{ item }}"\n    dest: "/etc/{{ item }}"\n'
                          "- name: derive the secret from the base secret\n  set_fact:\n"
                          "    jitsi_turn_secret: \"{{ 'turn' + jitsi_base_secret | hash('sha1') }}\"\n",
        "defaults/main.yml": '# users:\n#  - name: alice\n#    password: "secret-password"\njitsi_jvb_port: 10000\n',
        "LICENSE": "Source code form must require no special password or key for unpacking.\n",
        "group_vars/all.yml": "jitsi_base_secret: my_very_own_secret\n",
    }
    _write(root, files)
    _code, target = _audit(root, tmp_path, capsys)
    found = {f["check_id"]: f for f in target["findings"]}
    weak = found["secrets.weak_or_default"]["message"]
    assert weak.startswith("1 weak or default secret(s): all.yml: jitsi_base_secret;"), weak
    assert "main.yml: jitsi_turn_secret" in weak.split(";", 1)[1]  # an expression: named, not judged
    assert found["secrets.reuse"]["status"] == "pass", found["secrets.reuse"]["message"]


JICOFO_RENDERED = """\
jicofo {
  xmpp {
    client {
      client-proxy = "focus.meet.jitsi"
      disable-certificate-verification = true
    }
  }
}
"""


@pytest.mark.parametrize(("version", "noted"), [("stable-11200", True), ("stable-10655", False), ("unstable", False)])
def test_an_older_images_render_in_the_config_volume_is_named_under_rootless_images(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str, noted: bool) -> None:
    """Images since stable-11146 render jicofo.conf inside the container: the CONFIG volume's copy was
    written by an older image, and the audit says so instead of presenting it as what jicofo loads."""
    root = tmp_path / "docker-jitsi-meet"
    _checkout(root)
    (root / ".env").write_text(ENV.replace("JITSI_IMAGE_VERSION=stable-10655", f"JITSI_IMAGE_VERSION={version}"))
    (root / "cfg" / "jicofo").mkdir(parents=True)
    (root / "cfg" / "jicofo" / "jicofo.conf").write_text(JICOFO_RENDERED)
    _code, target = _audit(root, tmp_path, capsys)
    notes = [n for n in target["notes"] if "render their configuration inside the containers" in n]
    assert bool(notes) is noted, target["notes"]
    cited = {e["path"] for f in target["findings"] if f["check_id"].startswith("jicofo.") for e in f["evidence"]}
    if noted:  # jicofo does not load it: the .env's settings are judged, as the current image renders them
        assert "/cfg/jicofo/jicofo.conf were written by an older image and are not judged" in notes[0]
        assert "/cfg/jicofo/jicofo.conf" not in cited, cited
    else:
        assert "/cfg/jicofo/jicofo.conf" in cited, cited


def test_the_images_init_scripts_are_not_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stable-4416's jvb image refuses the old default password with a cont-init.d script naming it: the
    checkout's secrets.weak_or_default failed (critical) on OLD_JVB_AUTH_PASSWORD=passw0rd."""
    root = tmp_path / "docker-jitsi-meet"
    _checkout(root)
    scripts = {"jvb/rootfs/etc/cont-init.d/10-config": "#!/usr/bin/with-contenv bash\n\n"
                                                       "OLD_JVB_AUTH_PASSWORD=passw0rd\n"
                                                       'if [[ "$JVB_AUTH_PASSWORD" == "$OLD_JVB_AUTH_PASSWORD" ]]; then\n'
                                                       "    exit 1\nfi\n",
               "jibri/rootfs/etc/s6-overlay/s6-rc.d/jibri/run": "#!/command/execlineb -P\nJIBRI_XMPP_PASSWORD=changeme\n",
               "web/rootfs/etc/services.d/nginx/run": "#!/usr/bin/with-contenv bash\nSECRET=s3cr37\n"}
    _write(root, scripts)
    _code, target = _audit(root, tmp_path, capsys)
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["secrets.weak_or_default"]["status"] == "pass", found["secrets.weak_or_default"]["message"]


def test_a_helm_charts_templates_and_ci_are_named_not_judged(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """jitsi-contrib/jitsi-helm as published: its templates/ (Go templates of HOCON, coturn and nginx
    configuration) gave parse errors and exit 3, and a workflow's `permissions: id-token: write` a weak
    secret. An Ansible role's templates/ directory holds templates whatever their names too."""
    root = tmp_path / "jitsi-helm"
    files = {
        "Chart.yaml": "apiVersion: v2\nname: jitsi-meet\nversion: 1.5.0\n",
        "values.yaml": "jicofo:\n  xmpp:\n    password: \"\"\n",
        "templates/jicofo/configmap.yaml": 'apiVersion: v1\nkind: ConfigMap\ndata:\n  jicofo.conf: |\n'
                                           '    jicofo {\n      xmpp.client.port = {{ .Values.jicofo.port }}\n    }\n',
        "roles/jitsi/templates/turnserver.conf": "use-auth-secret\nstatic-auth-secret={{ turn_secret }}\n",
        ".github/workflows/publish.yml": "permissions:\n  id-token: write\n  contents: read\n",
    }
    _write(root, files)
    code, target = _audit(root, tmp_path, capsys)
    assert code == 0, target["notes"]
    assert not [c for c in target["collected"] if c["role"]]
    [templates] = [n for n in target["notes"] if n.startswith("templates not audited")]
    assert "/templates/jicofo/configmap.yaml" in templates and "/roles/jitsi/templates/turnserver.conf" in templates
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["secrets.weak_or_default"]["status"] != "fail", found["secrets.weak_or_default"]["message"]


def test_a_roles_tests_examples_tasks_and_images_are_not_its_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """juju4's and ralexsander's Ansible roles and krakazyabra's chart as published: a serverspec line
    (`'component_secret = ',`) gave the secret value `,` and every comma of the tree became a marker,
    breaking the role's own interface_config.js (exit 3); a task's `line: 'VirtualHost ...'` made tasks/prosody.yml
    a prosody file (a Lua syntax error, exit 3); an example's `…` a config.js ReferenceError (exit 3)."""
    root = tmp_path / "ansible-role-jitsi-meet"
    files = {
        "spec/jicofo_spec.rb": "describe file('/etc/jitsi/jicofo/config') do\n"
                               "  its('content') { should match(/^JICOFO_SECRET=[\\w@#]{8,}$/) }\nend\n",
        "molecule/default/converge.yml": "- hosts: all\n  vars:\n    jitsi_base_secret: my_very_own_secret\n",
        "test/integration/default/serverspec/prosody_spec.rb": "  'Component \"focus\"' => 'component_secret = ',\n",
        "files/interface_config.js": "var interfaceConfig = {\n    SHADOW_COLOR: '#ffffff',\n"
                                     "    TOOLBAR_TIMEOUT: 4000,\n};\n",
        "tasks/prosody.yml": "- name: guest domain\n  blockinfile:\n    block: |\n"
                             "      VirtualHost \"guest.{{ jitsi_meet_server_name }}\"\n"
                             "          authentication = \"anonymous\"\n",
        "examples/custom-config.js": "config.constraints = { video: { height: { ideal: 480, … } } };\n",
        "files/watermark.png": "\x89PNG\r\n\x1a\n\x00\x00secret=T\x00",
    }
    _write(root, files)
    code, target = _audit(root, tmp_path, capsys)
    assert code == 0, target["notes"]
    roles = {c["key"]: c["role"] for c in target["collected"]}
    assert roles["/files/interface_config.js"] == "interface_config_js" and roles["/tasks/prosody.yml"] is None
    found = {f["check_id"]: f for f in target["findings"]}
    assert found["secrets.weak_or_default"]["status"] == "not_applicable", found["secrets.weak_or_default"]["message"]


def test_a_yaml_file_is_no_prosody_or_nginx_file_but_its_key_is_a_key() -> None:
    from auditor.discovery import Role, discover
    from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

    key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
    snap = Snapshot(target="t", transport="dir")
    for path, text in (("/tasks/prosody.yml", 'line: |\n  VirtualHost "meet.example.org"\n'),
                       ("/k8s/web.yaml", "data:\n  site: |\n    server {\n      listen 443 ssl;\n    }\n"),
                       ("/k8s/tls.yaml", f"stringData:\n  tls.key: |\n{key}")):
        snap.add(CollectedItem(key=path, kind="file", status=ItemStatus.OK, content=text.encode()))
    assert [(f.path, f.role) for f in discover(snap)] == [("/k8s/tls.yaml", Role.PRIVATE_KEY)]
