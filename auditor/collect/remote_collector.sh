#!/bin/sh
# jitsi-audit collector: reads a Jitsi Meet host's configuration, READ-ONLY, and prints it as one
# stream on stdout. It writes nothing anywhere (no temp files: no here-documents, only pipes and
# command substitutions), opens no network connection, and reads only the allow-listed paths below
# (plus certificates named by the collected nginx/Apache/prosody files: content only if it is a PEM
# certificate), and the command name of every process (/proc/<pid>/comm, never its arguments).
# Private keys: metadata only, never content. Prosody account files: only which password fields
# exist, never their values. Needs POSIX sh (dash, bash, busybox) plus coreutils.
#
# Stream (format 2), one record per line, fields separated by TAB:
#   JITSI-AUDIT-COLLECT  FORMAT  COLLECTOR_VERSION  PLAN_SHA256          header, first line
#   F|C  key  status  mode  owner  group  size  link  exit  reason  content_b64
#   E  code  detail                                                       collection error
#   M  name  value                                                        fact
#   Z  record_count                                                       end marker, last line
# Text fields (key, link, detail, value): ":" + the text itself when it has only the characters
# A-Z a-z 0-9 / . _ + , @ % = : - (":" is not in the base64 alphabet), else the text in base64
# (base64 -w0). content_b64 is always base64. "-" stands for "none" in link, reason, detail and
# content_b64; empty fields are unknown. (Format 1: every text field in base64.)
#
# Privileged audits (jitsi-audit --sudo) run this file through `sudo -n`. Install it once per host:
#   jitsi-audit collector --print > /tmp/jitsi-audit-collect   # review it
#   sudo install -o root -g root -m 0755 /tmp/jitsi-audit-collect /usr/local/libexec/jitsi-audit-collect
#   echo 'AUDITUSER ALL=(root) NOPASSWD: /usr/local/libexec/jitsi-audit-collect ""' |
#     sudo tee /etc/sudoers.d/jitsi-audit && sudo chmod 0440 /etc/sudoers.d/jitsi-audit && sudo visudo -c
# ("" allows no arguments.) Reinstall after upgrading jitsi-audit: the header carries a hash of the plan and of this code
# and the auditor reports a collector that does not match its own.
#
# Containers: JITSI_AUDIT_CONTAINER=1 (set by the docker:// and kubectl:// transports, ignored under
# sudo) reads only /etc/os-release and the image's configuration directory /config, plus the commands.
#
# JITSI_AUDIT_ROOT_PREFIX=DIR reads DIR/<allow-listed path> instead of /<path> (still only allow-listed
# paths, symlinks confined below DIR); it is refused under sudo. Tests use it, and `--root` on a copy of a
# host's root, with JITSI_AUDIT_OFFLINE_COPY=1: then no command runs and no process is listed.

# ---- BEGIN GENERATED PLAN (auditor/collect/plan.py; regenerate, do not edit) ----
JA_COLLECTOR_VERSION=4
JA_FORMAT=2
JA_MAGIC=JITSI-AUDIT-COLLECT
JA_PLAN_SHA256=2c8506fea9498c9cd4d2ba899836bdc228376a453f01b72cfd21fe947ff83005
JA_FILE_CAP=1048576
JA_TOTAL_CAP=33554432
JA_CMD_B64CAP=1398104
JA_CMD_CAP=1048576
JA_MAX_CERT_REFS=32
JA_MAX_DIRS=48
JA_MAX_DOCKER_DIRS=8
JA_MAX_COMPOSE=64
JA_MAX_WALK=4096
JA_DOCKER_DEFAULT_CONFIG='~/.jitsi-meet-cfg'
JA_CONTAINER_CONFIGS='/run/web/config /run/prosody/config /run/jicofo/config /run/jvb/config /run/jibri/config /run/jigasi/config /config'

# ja_rule BASE TAIL POLICY SCAN MAX LINK_ROOT...
ja_plan_debian() {
  ja_rule /etc/os-release '' full - 64 /etc /usr/lib
  ja_rule /etc/prosody/prosody.cfg.lua '' full p 64 /etc/prosody
  ja_rule /etc/prosody/conf.d '*' full p 64 /etc/prosody
  ja_rule /etc/prosody/conf.avail '*' full p 64 /etc/prosody
  ja_rule /etc/prosody/certs '*' cert - 64 /etc/jitsi /etc/prosody /var/lib/prosody /etc/letsencrypt /etc/ssl /opt/acmesh
  ja_rule /var/lib/prosody '*/accounts/*.dat' account - 40 /var/lib/prosody
  ja_rule /etc/jitsi/jicofo '*' full - 64 /etc/jitsi
  ja_rule /etc/jitsi/videobridge '*' full - 64 /etc/jitsi
  ja_rule /etc/jitsi/meet '*' full - 64 /etc/jitsi /etc/prosody /var/lib/prosody /etc/letsencrypt /etc/ssl /opt/acmesh
  ja_rule /etc/jitsi/meet/jaas '*' full - 64 /etc/jitsi
  ja_rule /etc/jitsi/jibri '*' full - 64 /etc/jitsi
  ja_rule /etc/jitsi/jigasi '*' full - 64 /etc/jitsi
  ja_rule /usr/share/jitsi-meet/interface_config.js '' full - 64 /usr/share/jitsi-meet /etc/jitsi
  ja_rule /etc/nginx/nginx.conf '' full n 64 /etc/nginx
  ja_rule /etc/nginx/sites-enabled '*' full n 64 /etc/nginx
  ja_rule /etc/nginx/sites-available '*' full n 64 /etc/nginx
  ja_rule /etc/nginx/conf.d '*' full n 64 /etc/nginx
  ja_rule /etc/nginx/snippets '*' full n 64 /etc/nginx
  ja_rule /usr/local/openresty/nginx/conf '*.conf' full n 64 /usr/local/openresty/nginx/conf
  ja_rule /etc/letsencrypt/options-ssl-nginx.conf '' full - 64 /etc/letsencrypt
  ja_rule /etc/letsencrypt/options-ssl-apache.conf '' full - 64 /etc/letsencrypt
  ja_rule /etc/apache2/apache2.conf '' full a 64 /etc/apache2
  ja_rule /etc/apache2/ports.conf '' full a 64 /etc/apache2
  ja_rule /etc/apache2/sites-enabled '*' full a 64 /etc/apache2
  ja_rule /etc/apache2/sites-available '*' full a 64 /etc/apache2
  ja_rule /etc/apache2/conf-enabled '*' full a 64 /etc/apache2
  ja_rule /etc/apache2/mods-enabled '*.conf' full a 64 /etc/apache2
  ja_rule /etc/turnserver.conf '' full - 64 /etc
  ja_rule /etc/default/coturn '' full - 64 /etc/default
  ja_rule /etc/saslauthd.conf '' full - 64 /etc
  ja_rule /etc/default/saslauthd '' full - 64 /etc/default
  ja_rule /etc/sasl/prosody.conf '' full - 64 /etc/sasl
  ja_rule /etc/sasl2/prosody.conf '' full - 64 /etc/sasl2
  ja_rule /etc/ldap/ldap.conf '' full - 64 /etc/ldap
}

ja_plan_container_host() {
  ja_rule /etc/os-release '' full - 64 /etc /usr/lib
}

# ja_drule SUBPATH TAIL POLICY MAX (under $JA_DDIR, confined to $JA_DROOT)
ja_plan_docker_project() {
  ja_drule .env '' full 1
  ja_drule '' '*.yml' full 16
  ja_drule '' '*.yaml' full 16
}

ja_plan_docker_config() {
  ja_drule web/config.js '' full 64
  ja_drule web/custom-config.js '' full 64
  ja_drule web/interface_config.js '' full 64
  ja_drule web/custom-interface_config.js '' full 64
  ja_drule web/nginx '*' full 64
  ja_drule web/nginx/site-confs '*' full 64
  ja_drule web/keys '*.crt' cert 8
  ja_drule prosody/config '*.cfg.lua' full 64
  ja_drule prosody/config/conf.d '*' full 64
  ja_drule jicofo '*.conf' full 64
  ja_drule jvb '*.conf' full 64
  ja_drule jibri '*.conf' full 64
  ja_drule jigasi '*.properties' full 64
}

ja_plan_container_config() {
  ja_drule '' '*config.js' full 8
  ja_drule nginx '*' full 64
  ja_drule nginx/site-confs '*' full 64
  ja_drule keys '*.crt' cert 8
  ja_drule '' '*.cfg.lua' full 64
  ja_drule conf.d '*' full 64
  ja_drule '' '*.conf' full 64
  ja_drule '' '*.properties' full 64
}

# ja_compose_in DIR/...: the compose file names tried in each directory.
ja_compose_in() {
  for ci_d in "$@"; do
    [ -d "$ci_d" ] || continue
    ja_compose_try "$ci_d"docker-compose.yml "$ci_d"docker-compose.yaml "$ci_d"compose.yml "$ci_d"compose.yaml
  done
}

# Candidate compose files: each search root walked DOCKER_SEARCH_DEPTH levels down (ja_compose_walk).
ja_plan_compose() {
  ja_compose_walk "$JA_P"/opt 3
  ja_compose_walk "$JA_P"/srv 3
  ja_compose_walk "$JA_P"/root 3
  for cw_r in "$JA_P"/home/*; do ja_compose_walk "$cw_r" 3; done
}

# ja_cmd NAME TIMEOUT ARGV... / ja_processes NAME COMM_FILES_GLOB
ja_plan_commands() {
  ja_cmd dpkg-query 15 dpkg-query -W '--showformat=${Package}\t${Version}\t${db:Status-Abbrev}\n' jitsi-meet jitsi-meet-web jitsi-meet-web-config jitsi-meet-prosody jitsi-meet-tokens jitsi-meet-turnserver jicofo jitsi-videobridge2 jibri jigasi prosody prosody-0.12 prosody-13.0 prosody-trunk coturn nginx nginx-full nginx-extras nginx-light nginx-core openresty apache2 lua-sec lua-basexx lua-luaossl lua-cjson lua-inspect openjdk-17-jre-headless openjdk-21-jre-headless ruby-hocon sasl2-bin libsasl2-modules-ldap docker-ce docker.io docker-compose-plugin certbot openssh-server
  ja_cmd ss 10 ss -Hltnup
  ja_cmd prosodyctl-about 20 prosodyctl about
  ja_cmd lsblk 10 lsblk -P -o NAME,TYPE,FSTYPE,MOUNTPOINT
  ja_cmd findmnt 10 findmnt -rn -o TARGET,SOURCE,FSTYPE
  ja_cmd uname 5 uname -srm
  ja_cmd hostname 5 hostname -f
  ja_cmd id 5 id -un
  ja_processes processes '/proc/[0-9]*/comm'
}

ja_is_private_key_name() {
  case $1 in *.key|*privkey*|*.p12|*.pfx|*.jks|*.keystore|*.p8) return 0 ;; esac
  return 1
}
# ---- END GENERATED PLAN ----

JA_NL='
'

# ja_text TEXT: sets ja_e to TEXT as a text field of the stream. Only a text with an unsafe character
# (TAB, newline, space, control, non-ASCII, quote, ...) costs a process (printf | base64).
ja_text() {
  case $1 in
    *[!A-Za-z0-9/._+,@%=:-]*) ja_e=$(printf '%s' "$1" | base64 -w0) ;;
    *) ja_e=:$1 ;;
  esac
}

# ja_rec TYPE KEY STATUS MODE OWNER GROUP SIZE LINK_FIELD EXIT REASON CONTENT_B64
# JA_FKEYS: the keys of the F records so far (one a line; a key with a newline is not kept).
ja_rec() {
  JA_N=$((JA_N + 1))
  case $1$2 in F*"$JA_NL"*) ;; F*) JA_FKEYS=$JA_FKEYS$2$JA_NL ;; esac
  ja_text "$2"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$1" "$ja_e" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}"
}

ja_err() {
  JA_N=$((JA_N + 1))
  ja_text "$2"
  printf 'E\t%s\t%s\n' "$1" "$ja_e"
}

ja_fact() {
  JA_N=$((JA_N + 1))
  ja_text "$2"
  printf 'M\t%s\t%s\n' "$1" "$ja_e"
}

# ja_canonical PATH: true when readlink -f would print PATH itself: PATH is absolute, has no empty,
# "." or ".." component nor a trailing slash, and no component (the last one included) is a
# symlink. Builtins only (one lstat per component); a component that cannot be examined (a
# directory without search permission above it) reads as no symlink, and then readlink -f fails
# too and ja_resolve would keep PATH as it is: the same answer.
ja_canonical() {
  case $1 in '' | [!/]* | */ | *//* | */./* | */../* | */. | */..) return 1 ;; esac
  cn_p=$1
  while [ -n "$cn_p" ]; do
    [ ! -L "$cn_p" ] || return 1
    cn_p=${cn_p%/*}
  done
  return 0
}

# ja_resolve PATH: sets ja_r to PATH resolved like readlink -f (a trailing newline in a name kept).
# readlink runs only when some component is a symlink or the path is not canonical.
# ja_rc=1 when PATH was canonical (resolved without readlink), else empty.
ja_resolve() {
  if ja_canonical "$1"; then
    ja_r=$1
    ja_rc=1
    return 0
  fi
  ja_rc=
  ja_r=$(readlink -f -- "$1" 2>/dev/null; printf x)
  ja_r=${ja_r%x}
  ja_r=${ja_r%"$JA_NL"}
  [ -n "$ja_r" ] || ja_r=$1
}

# ja_resolve_link PATH TARGET: ja_resolve for PATH, a symlink whose target (readlink) is TARGET.
# Without readlink when TARGET is absolute, or relative and PATH's directory is canonical (then the
# physical parent of that directory is its textual parent, so leading ../ can be taken off as
# text), and the path so obtained is canonical: the kernel follows TARGET exactly as it reads.
ja_resolve_link() {
  rl_d=${1%/*}
  rl_t=$2
  case $rl_t in
    /*) rl_d=$JA_P ; rl_t=${rl_t#/} ;;  # a copy's absolute link starts again at its root
    *) ja_canonical "$rl_d" || { ja_resolve "$1"; return 0; } ;;
  esac
  while :; do
    case $rl_t in
      ../*)
        [ -n "$rl_d" ] && [ "$rl_d" != "$JA_P" ] || { ja_resolve "$1"; return 0; }
        rl_d=${rl_d%/*}
        rl_t=${rl_t#../} ;;
      *) break ;;
    esac
  done
  if ja_canonical "$rl_d/$rl_t"; then
    ja_r=$rl_d/$rl_t
    ja_rc=
    return 0
  fi
  ja_resolve "$1"
}

# ja_inside PATH N ROOT...: true when the resolved PATH is one of the first N (resolved) roots, or
# below one; the root / holds everything. Read through JA_P, PATH must also be below JA_P: a root of
# the tree that is a symlink to this machine (DIR/etc/jitsi -> /etc/jitsi) resolves here, not in DIR.
ja_inside() {
  in_p=$1; in_n=$2; shift 2
  if [ -n "$JA_P" ]; then
    case $in_p in "$JA_P" | "$JA_P"/*) ;; *) return 1 ;; esac
  fi
  for in_r in "$@"; do
    [ "$in_n" -gt 0 ] || return 1
    in_n=$((in_n - 1))
    [ "$in_r" != / ] || return 0
    case $in_p in "$in_r" | "$in_r"/*) return 0 ;; esac
  done
  return 1
}

# ja_confined PHYSICAL_PATH: false when a tree is read through JA_P and PHYSICAL_PATH resolves outside
# it; checked before a directory is listed or a compose file read (their names and text are not DIR's).
ja_confined() {
  [ -n "$JA_P" ] || return 0
  ja_resolve "$1"
  case $ja_r in "$JA_P" | "$JA_P"/*) return 0 ;; esac
  return 1
}

# Why is $1 absent? Sets ja_ds=denied when the nearest existing ancestor cannot be searched.
ja_absent() {
  ab_d=$1
  while :; do
    ab_d=${ab_d%/*}
    if [ -z "$ab_d" ]; then ja_ds=missing; return; fi
    if [ -d "$ab_d" ]; then
      if [ -x "$ab_d" ]; then ja_ds=missing; else ja_ds=denied; fi
      return
    fi
  done
}

# ja_dirstate PHYSICAL_DIR: sets ja_ds to ok, missing, denied or notdir.
ja_dirstate() {
  if [ -d "$1" ]; then
    if [ -r "$1" ] && [ -x "$1" ]; then ja_ds=ok; else ja_ds=denied; fi
  elif [ -e "$1" ] || [ -L "$1" ]; then
    ja_ds=notdir
  else
    ja_absent "$1"
  fi
}

# ja_file LOGICAL_PATH POLICY FLAGS PHYSICAL_ROOT...
# FLAGS: n = scan for nginx certificate lines, a = Apache, p = prosody, h = refuse hard links, - = none.
ja_file() {
  f_k=$1; f_pol=$2; f_fl=$3; shift 3
  f_p=$JA_P$f_k
  f_lt=-
  if [ -L "$f_p" ]; then
    f_t=$(readlink -- "$f_p" 2>/dev/null; printf x)
    f_t=${f_t%x}
    f_t=${f_t%"$JA_NL"}
    ja_text "$f_t"
    f_lt=$ja_e
    # In a copy read through JA_P an absolute link names a file of the copy: that file is examined and
    # read from here on (the kernel would follow the link to this machine's file).
    if [ -n "$JA_P" ]; then
      case $f_t in /*) ja_resolve_link "$f_p" "$f_t"; f_p=$ja_r ;; esac
    fi
  fi
  if [ ! -e "$f_p" ]; then
    if [ "$f_lt" != - ]; then
      f_e=$(LC_ALL=C readlink -fv -- "$f_p" 2>&1 >/dev/null)
      case $f_e in
        *'Too many levels'*) ja_rec F "$f_k" not_regular '' '' '' '' "$f_lt" '' symlink_loop - ;;
        *'ermission denied'*) ja_rec F "$f_k" permission_denied '' '' '' '' "$f_lt" '' link_unresolvable - ;;
        *) ja_rec F "$f_k" missing '' '' '' '' "$f_lt" '' dangling_link - ;;
      esac
    else
      ja_absent "$f_p"
      if [ "$ja_ds" = denied ]; then
        ja_rec F "$f_k" permission_denied '' '' '' '' - '' dir_unreadable -
      else
        ja_rec F "$f_k" missing '' '' '' '' - '' not_found -
      fi
    fi
    return 0
  fi
  # Confine: the fully resolved path must stay below one of the (resolved) roots.
  if [ "$f_lt" = - ]; then ja_resolve "$f_p"; else ja_resolve_link "$f_p" "$f_t"; fi
  if ! ja_inside "$ja_r" "$#" "$@"; then
    ja_rec F "$f_k" not_regular '' '' '' '' "$f_lt" '' symlink_outside -
    return 0
  fi
  f_st=
  # The glob's batched stat line, only for a path that was canonical here too.
  [ -z "$JA_SB" ] || [ -z "$ja_rc" ] || ja_stat_take "$f_p"
  [ -n "$f_st" ] || f_st=$(stat -L -c '%a %h %s %U %G %F' -- "$f_p" 2>/dev/null)
  if [ -z "$f_st" ]; then
    ja_rec F "$f_k" error '' '' '' '' "$f_lt" '' stat_failed -
    return 0
  fi
  ja_dir_add "$f_k"
  ja_dir_add "${ja_r#"$JA_P"}"
  IFS=' '
  set -f
  # shellcheck disable=SC2086  # split on purpose
  set -- $f_st
  f_mode=$1; f_nl=$2; f_sz=$3; f_own=$4; f_grp=$5
  shift 5
  f_type="$*"
  set +f
  IFS=
  case $f_type in
    'regular file' | 'regular empty file') ;;
    directory)
      ja_rec F "$f_k" not_regular "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' directory -
      return 0 ;;
    *)
      ja_rec F "$f_k" not_regular "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' special_file -
      return 0 ;;
  esac
  case $f_fl in *h*)
    if [ "$f_nl" -gt 1 ]; then
      ja_rec F "$f_k" not_regular "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' hard_link -
      return 0
    fi ;;
  esac
  f_why=-
  if ja_is_private_key_name "${f_k##*/}"; then f_pol=meta; f_why=private_key; fi
  if [ "$f_pol" = meta ]; then
    [ "$f_why" != - ] || f_why=metadata_only
    ja_rec F "$f_k" ok "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' "$f_why" -
    return 0
  fi
  if [ ! -r "$f_p" ]; then
    ja_rec F "$f_k" permission_denied "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' - -
    return 0
  fi
  if [ "$f_sz" -gt "$JA_FILE_CAP" ]; then
    ja_rec F "$f_k" too_large "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' size_cap -
    return 0
  fi
  if [ $((JA_TOTAL + f_sz)) -gt "$JA_TOTAL_CAP" ]; then
    ja_rec F "$f_k" too_large "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' total_cap -
    return 0
  fi
  # NUL bytes cannot live in a shell variable; this copy is only for the checks below.
  if ! f_txt=$(tr -d '\000' < "$f_p" 2>/dev/null); then
    ja_rec F "$f_k" error "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' read_failed -
    return 0
  fi
  case $f_txt in *'PRIVATE KEY-----'*)
    ja_rec F "$f_k" ok "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' private_key -
    return 0 ;;
  esac
  case $f_pol in
    cert)
      case $f_txt in *'-----BEGIN CERTIFICATE-----'*) ;; *)
        ja_rec F "$f_k" ok "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' not_certificate -
        return 0 ;;
      esac ;;
    account)
      # base64 of "jitsi-audit account summary\npassword_field=yes|no\nscram_fields=yes|no\n"
      case $f_txt in
        *'"password"'*)
          case $f_txt in
            *'"stored_key"'*) f_b=aml0c2ktYXVkaXQgYWNjb3VudCBzdW1tYXJ5CnBhc3N3b3JkX2ZpZWxkPXllcwpzY3JhbV9maWVsZHM9eWVzCg== ;;
            *) f_b=aml0c2ktYXVkaXQgYWNjb3VudCBzdW1tYXJ5CnBhc3N3b3JkX2ZpZWxkPXllcwpzY3JhbV9maWVsZHM9bm8K ;;
          esac ;;
        *)
          case $f_txt in
            *'"stored_key"'*) f_b=aml0c2ktYXVkaXQgYWNjb3VudCBzdW1tYXJ5CnBhc3N3b3JkX2ZpZWxkPW5vCnNjcmFtX2ZpZWxkcz15ZXMK ;;
            *) f_b=aml0c2ktYXVkaXQgYWNjb3VudCBzdW1tYXJ5CnBhc3N3b3JkX2ZpZWxkPW5vCnNjcmFtX2ZpZWxkcz1ubwo= ;;
          esac ;;
      esac
      ja_rec F "$f_k" ok "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' account_summary "$f_b"
      return 0 ;;
  esac
  if ! f_b=$(base64 -w0 < "$f_p" 2>/dev/null); then
    ja_rec F "$f_k" error "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' read_failed -
    return 0
  fi
  JA_TOTAL=$((JA_TOTAL + f_sz))
  ja_rec F "$f_k" ok "$f_mode" "$f_own" "$f_grp" "$f_sz" "$f_lt" '' - "$f_b"
  case $f_fl in
    *n*) ja_scan_nginx ;;
    *a*) ja_scan_apache ;;
    *p*) ja_scan_prosody ;;
  esac
  return 0
}

# ja_dir_add PATH: the directories above PATH into JA_DIRS (one a line, logical: without JA_P), up
# to JA_MAX_DIRS of them, each at most 256 characters, 3000 in all: the fact that carries their modes
# stays below the auditor's 4096-character cut. A chain already listed has its ancestors listed too;
# one cut short by a cap leaves the auditor unsure.
ja_dir_add() {
  da_d=${1%/*}
  if [ -n "$JA_P" ]; then
    case $da_d/ in */../*) return 0 ;; esac
  fi
  while [ -n "$da_d" ]; do
    case $da_d in *"$JA_NL"*) return 0 ;; esac
    [ "${#da_d}" -le 256 ] || return 0
    case $JA_NL$JA_DIRS in *"$JA_NL$da_d$JA_NL"*) return 0 ;; esac
    [ "$JA_NDIRS" -lt "$JA_MAX_DIRS" ] && [ "${#JA_DIRS}" -lt 3000 ] || return 0
    JA_DIRS=$JA_DIRS$da_d$JA_NL
    JA_NDIRS=$((JA_NDIRS + 1))
    da_d=${da_d%/*}
  done
}

# ja_dir_modes: one fact with MODE:TYPE:PATH for the directories above the collected files (one
# lstat for all, PATH with JA_P): a world-readable file in a directory others cannot search is not
# readable by them (the auditor's secrets.file_permissions).
ja_dir_modes() {
  [ -n "$JA_DIRS" ] || return 0
  set --
  dm_rest=$JA_DIRS
  while [ -n "$dm_rest" ]; do
    set -- "$@" "$JA_P${dm_rest%%"$JA_NL"*}"
    dm_rest=${dm_rest#*"$JA_NL"}
  done
  dm_out=$(stat -c '%a:%F:%n' -- "$@" 2>/dev/null)
  [ -z "$dm_out" ] || ja_fact dir_modes "$dm_out"
}

# ja_add_ref KIND(c|k) RAW_VALUE BASE_DIR QUOTES_REQUIRED(1|'')
ja_add_ref() {
  ar_v=$2; ar_v=${ar_v#"${ar_v%%[![:space:]]*}"}
  case $ar_v in
    \"*) ar_v=${ar_v#\"}; ar_v=${ar_v%%\"*} ;;
    \'*) ar_v=${ar_v#\'}; ar_v=${ar_v%%\'*} ;;
    *) [ -z "$4" ] || return 0; ar_v=${ar_v%%[[:space:]]*} ;;
  esac
  case $ar_v in '' | *'$'* | *'`'* | *"$JA_NL"*) return 0 ;; esac
  case $ar_v in /*) ;; *) ar_v=$3/$ar_v ;; esac
  ar_e=$1$ar_v
  case "$JA_NL$JA_REFS" in *"$JA_NL$ar_e$JA_NL"*) return 0 ;; esac
  JA_NREFS=$((JA_NREFS + 1))
  [ "$JA_NREFS" -le $((JA_MAX_CERT_REFS * 4)) ] || return 0
  JA_REFS=$JA_REFS$ar_e$JA_NL
}

# Certificate paths named by the nginx file just collected (its text is in f_txt).
ja_scan_nginx() {
  [ "${#f_txt}" -le 262144 ] || return 0
  IFS=$JA_NL
  set -f
  for sn_l in $f_txt; do
    sn_l=${sn_l#"${sn_l%%[![:space:]]*}"}
    case $sn_l in
      ssl_certificate_key[[:space:]]*)
        sn_v=${sn_l#ssl_certificate_key}
        ja_add_ref k "${sn_v%%;*}" /etc/nginx '' ;;
      ssl_certificate[[:space:]]*)
        sn_v=${sn_l#ssl_certificate}
        ja_add_ref c "${sn_v%%;*}" /etc/nginx '' ;;
    esac
  done
  set +f
  IFS=
}

# Certificate paths named by the Apache file just collected (text in f_txt): SSLCertificateFile and
# SSLCertificateChainFile (content if a PEM certificate), SSLCertificateKeyFile (metadata only).
# httpd's directive names are case-insensitive; relative paths are against its ServerRoot.
ja_scan_apache() {
  [ "${#f_txt}" -le 262144 ] || return 0
  IFS=$JA_NL
  set -f
  for sa_l in $f_txt; do
    sa_l=${sa_l#"${sa_l%%[![:space:]]*}"}
    sa_w=${sa_l%%[[:space:]]*}
    case $sa_w in
      [Ss][Ss][Ll][Cc][Ee][Rr][Tt][Ii][Ff][Ii][Cc][Aa][Tt][Ee][Kk][Ee][Yy][Ff][Ii][Ll][Ee]) sa_k=k ;;
      [Ss][Ss][Ll][Cc][Ee][Rr][Tt][Ii][Ff][Ii][Cc][Aa][Tt][Ee][Ff][Ii][Ll][Ee]) sa_k=c ;;
      [Ss][Ss][Ll][Cc][Ee][Rr][Tt][Ii][Ff][Ii][Cc][Aa][Tt][Ee][Cc][Hh][Aa][Ii][Nn][Ff][Ii][Ll][Ee]) sa_k=c ;;
      *) continue ;;
    esac
    ja_add_ref "$sa_k" "${sa_l#"$sa_w"}" /etc/apache2 ''
  done
  set +f
  IFS=
}

# certificate = "..." / key = "..." in the prosody file just collected (text in f_txt).
ja_scan_prosody() {
  [ "${#f_txt}" -le 262144 ] || return 0
  set -f
  IFS=$JA_NL
  for sp_l in $f_txt; do
    case $sp_l in *certificate* | *key*) ;; *) continue ;; esac
    IFS=';,{}'
    for sp_s in $sp_l; do
      sp_s=${sp_s#"${sp_s%%[![:space:]]*}"}
      case $sp_s in
        --*) break ;;
        key[[:space:]=]*) sp_k=k; sp_v=${sp_s#key} ;;
        certificate[[:space:]=]*) sp_k=c; sp_v=${sp_s#certificate} ;;
        *) continue ;;
      esac
      sp_v=${sp_v#"${sp_v%%[![:space:]]*}"}
      case $sp_v in =*) ja_add_ref "$sp_k" "${sp_v#=}" /etc/prosody 1 ;; esac
    done
    IFS=$JA_NL
  done
  set +f
  IFS=
}

# ja_stat_batch MAX N ROOT(N of them)... ENTRY...: one stat for the glob entries (among the first
# MAX, counted as ja_glob counts them) that ja_file will stat with no symlink on the way: existing,
# canonical, inside a root, no newline in the name (so that every entry is exactly two lines).
# Sets JA_SB to "META<newline>PATH<newline>" per file, in order, or to '' when fewer than two
# files qualify.
ja_stat_batch() {
  JA_SB=
  sb_max=$1; sb_nr=$2; shift 2
  sb_all=$#; sb_i=0; sb_n=0; sb_sel=0
  for sb_f in "$@"; do
    sb_i=$((sb_i + 1))
    [ "$sb_i" -gt "$sb_nr" ] || continue
    [ -e "$sb_f" ] || [ -L "$sb_f" ] || continue
    [ ! -d "$sb_f" ] || continue
    sb_n=$((sb_n + 1))
    [ "$sb_n" -le "$sb_max" ] || break
    case $sb_f in *"$JA_NL"*) continue ;; esac
    [ -e "$sb_f" ] && ja_canonical "$sb_f" && ja_inside "$sb_f" "$sb_nr" "$@" || continue
    set -- "$@" "$sb_f"
    sb_sel=$((sb_sel + 1))
  done
  shift "$sb_all"
  [ "$sb_sel" -ge 2 ] || return 0
  JA_SB=$(stat -L -c "%a %h %s %U %G %F$JA_NL%n" -- "$@" 2>/dev/null)
  [ -z "$JA_SB" ] || JA_SB=$JA_SB$JA_NL
}

# ja_stat_take PATH: sets f_st to the batched stat line of PATH when PATH is the next one in JA_SB
# (then consumed). A file stat could not examine has no entry: the files after it in the batch
# then fall back to their own stat, never to another file's line.
ja_stat_take() {
  case $JA_SB in *"$JA_NL"*"$JA_NL"*) ;; *) return 0 ;; esac
  st_m=${JA_SB%%"$JA_NL"*}
  st_rest=${JA_SB#*"$JA_NL"}
  [ "${st_rest%%"$JA_NL"*}" = "$1" ] || return 0
  f_st=$st_m
  JA_SB=${st_rest#*"$JA_NL"}
}

# ja_glob BASE TAIL POLICY FLAGS MAX PHYSICAL_ROOT...   (BASE is an existing, listable directory)
ja_glob() {
  gl_base=$1; gl_tail=$2; gl_pol=$3; gl_fl=$4; gl_max=$5; shift 5
  # shellcheck disable=SC2086  # the tail is a glob from the plan
  ja_stat_batch "$gl_max" "$#" "$@" "$JA_P$gl_base"/$gl_tail
  gl_n=0
  # shellcheck disable=SC2086  # the tail is a glob from the plan
  for gl_f in "$JA_P$gl_base"/$gl_tail; do
    [ -e "$gl_f" ] || [ -L "$gl_f" ] || continue
    [ ! -d "$gl_f" ] || continue
    gl_n=$((gl_n + 1))
    [ "$gl_n" -le "$gl_max" ] || continue
    ja_file "${gl_f#"$JA_P"}" "$gl_pol" "$gl_fl" "$@"
  done
  JA_SB=
  [ "$gl_n" -le "$gl_max" ] || ja_err too_many_files "$gl_base/$gl_tail: $gl_n files, the first $gl_max collected"
}

# ja_rule BASE TAIL POLICY SCAN MAX LINK_ROOT...   (a Debian host path)
ja_rule() {
  r_base=$1; r_tail=$2; r_pol=$3; r_fl=$4; r_max=$5; shift 5
  r_cnt=$#
  for r_root in "$@"; do
    ja_resolve "$JA_P$r_root"
    set -- "$@" "$ja_r"
  done
  shift "$r_cnt"
  if [ -z "$r_tail" ]; then
    ja_file "$r_base" "$r_pol" "$r_fl" "$@"
    return 0
  fi
  if ja_confined "$JA_P$r_base"; then ja_dirstate "$JA_P$r_base"; else ja_ds=outside; fi
  case $ja_ds in
    ok) ja_glob "$r_base" "$r_tail" "$r_pol" "$r_fl" "$r_max" "$@" ;;
    outside) ja_rec F "$r_base" not_regular '' '' '' '' - '' symlink_outside - ;;
    missing) ja_rec F "$r_base" missing '' '' '' '' - '' not_found - ;;
    denied) ja_rec F "$r_base" permission_denied '' '' '' '' - '' dir_unreadable - ;;
    *) ja_rec F "$r_base" not_regular '' '' '' '' - '' special_file - ;;
  esac
}

# ja_drule SUBPATH TAIL POLICY MAX   (below $JA_DDIR; symlinks confined to $JA_DROOT)
ja_drule() {
  if [ -z "$2" ]; then
    ja_file "$JA_DDIR/$1" "$3" h "$JA_DROOT"
    return 0
  fi
  dr_base=$JA_DDIR
  [ -z "$1" ] || dr_base=$JA_DDIR/$1
  if ja_confined "$JA_P$dr_base"; then ja_dirstate "$JA_P$dr_base"; else ja_ds=outside; fi
  case $ja_ds in
    ok) ja_glob "$dr_base" "$2" "$3" h "$4" "$JA_DROOT" ;;
    outside) ja_rec F "$dr_base" not_regular '' '' '' '' - '' symlink_outside - ;;
    denied) ja_rec F "$dr_base" permission_denied '' '' '' '' - '' dir_unreadable - ;;
  esac
}

# ja_compose_walk DIR DEPTH: the compose file names tried in DIR and in the directories DEPTH levels
# below it, one level at a time. A symlinked directory is tried but not entered: a link to `.` or to /
# made the shell's directory globs (/home/*/*/*/*/) grow without end, in memory, on the audited host. At
# most JA_MAX_WALK directories are entered below one root; then an E record says the search was cut.
ja_compose_walk() {
  [ -d "$1" ] || return 0
  ja_compose_in "$1/"
  [ ! -L "$1" ] || return 0
  cw_level=$1$JA_NL
  cw_depth=$2
  cw_n=0
  while [ "$cw_depth" -gt 0 ] && [ -n "$cw_level" ]; do
    cw_next=
    while [ -n "$cw_level" ]; do
      cw_d=${cw_level%%"$JA_NL"*}
      cw_level=${cw_level#*"$JA_NL"}
      for cw_s in "$cw_d"/*/; do
        [ -d "$cw_s" ] || continue
        cw_s=${cw_s%/}
        case $cw_s in *"$JA_NL"*) continue ;; esac
        ja_compose_in "$cw_s/"
        [ ! -L "$cw_s" ] || continue
        cw_n=$((cw_n + 1))
        if [ "$cw_n" -gt "$JA_MAX_WALK" ]; then
          ja_err compose_search_cut "more than $JA_MAX_WALK directories below ${1#"$JA_P"}: the rest was not searched for compose files"
          return 0
        fi
        cw_next=$cw_next$cw_s$JA_NL
      done
    done
    cw_level=$cw_next
    cw_depth=$((cw_depth - 1))
  done
}

# ja_compose_try FILE...: remember the directories of compose files that mention jitsi.
ja_compose_try() {
  for ct_f in "$@"; do
    [ -f "$ct_f" ] && [ ! -L "$ct_f" ] || continue
    ct_d=${ct_f%/*}
    ct_l=${ct_d#"$JA_P"}
    case $ct_l in *"$JA_NL"*) continue ;; esac
    ja_confined "$ct_d" || continue
    case "$JA_NL$JA_DDIRS" in *"$JA_NL$ct_l$JA_NL"*) continue ;; esac
    JA_CNUM=$((JA_CNUM + 1))
    [ "$JA_CNUM" -le "$JA_MAX_COMPOSE" ] || continue
    [ -r "$ct_f" ] || continue
    ct_sz=$(stat -c %s -- "$ct_f" 2>/dev/null)
    [ "${ct_sz:-0}" -le "$JA_FILE_CAP" ] || continue
    ct_t=$(tr -d '\000' < "$ct_f" 2>/dev/null)
    case $ct_t in *[Jj][Ii][Tt][Ss][Ii]*) ;; *) continue ;; esac
    if [ "$JA_DNUM" -ge "$JA_MAX_DOCKER_DIRS" ]; then
      JA_DSKIP=$((JA_DSKIP + 1))
      continue
    fi
    JA_DNUM=$((JA_DNUM + 1))
    JA_DDIRS=$JA_DDIRS$ct_l$JA_NL
  done
}

# ja_docker_config PROJECT_DIR: sets JA_CFG (logical CONFIG dir, '' if unknown) and JA_CFG_SRC.
ja_docker_config() {
  dc_v=
  JA_CFG=
  JA_CFG_SRC=default
  dc_env=$JA_P$1/.env
  if [ -f "$dc_env" ] && [ ! -L "$dc_env" ]; then
    dc_sz=$(stat -c %s -- "$dc_env" 2>/dev/null)
    if [ ! -r "$dc_env" ]; then
      JA_CFG_SRC=env_unreadable
    elif [ "${dc_sz:-0}" -le "$JA_FILE_CAP" ]; then
      dc_t=$(tr -d '\000' < "$dc_env" 2>/dev/null)
      set -f
      IFS=$JA_NL
      for dc_l in $dc_t; do
        dc_l=${dc_l#"${dc_l%%[![:space:]]*}"}
        case $dc_l in export[[:space:]]*) dc_l=${dc_l#export}; dc_l=${dc_l#"${dc_l%%[![:space:]]*}"} ;; esac
        case $dc_l in CONFIG=*) dc_v=${dc_l#CONFIG=}; JA_CFG_SRC=env ;; esac
      done
      IFS=
      set +f
    fi
  fi
  [ -n "$dc_v" ] || dc_v=$JA_DOCKER_DEFAULT_CONFIG
  case $dc_v in
    \"*) dc_v=${dc_v#\"}; dc_v=${dc_v%%\"*} ;;
    \'*) dc_v=${dc_v#\'}; dc_v=${dc_v%%\'*} ;;
    *) dc_v=${dc_v%%[[:space:]]*} ;;
  esac
  case $dc_v in
    '~' | '~/'* | '$HOME' | '$HOME/'* | '${HOME}' | '${HOME}/'*)
      # docker compose expands ~ for the user running it; the project owner is the best guess.
      dc_u=$(stat -c %U -- "$JA_P$1" 2>/dev/null)
      case $dc_u in '' | -* | *[!A-Za-z0-9._-]*)
        ja_err docker_config "$1: cannot tell whose home ~ is"
        return 0 ;;
      esac
      dc_h=$(eval "printf '%s' ~$dc_u")
      case $dc_h in /*) ;; *)
        ja_err docker_config "$1: no home directory for $dc_u"
        return 0 ;;
      esac
      case $dc_v in
        '~'*) dc_v=$dc_h${dc_v#\~} ;;
        '${HOME}'*) dc_v=$dc_h${dc_v#'${HOME}'} ;;
        *) dc_v=$dc_h${dc_v#'$HOME'} ;;
      esac ;;
    *'$'* | *'`'* | '')
      ja_err docker_config "$1: CONFIG value not understood"
      return 0 ;;
    /*) ;;
    *) dc_v=$1/${dc_v#./} ;;
  esac
  while :; do
    case $dc_v in /) break ;; */) dc_v=${dc_v%/} ;; *) break ;; esac
  done
  JA_CFG=$dc_v
}

ja_docker() {
  JA_DDIRS=
  JA_DNUM=0
  JA_CNUM=0
  JA_DSKIP=0
  ja_plan_compose
  [ "$JA_DSKIP" -eq 0 ] || ja_err too_many_docker_dirs "$JA_DSKIP more docker-jitsi-meet directories not collected"
  [ -n "$JA_DDIRS" ] || return 0
  dk_i=0
  set -f
  IFS=$JA_NL
  for dk_d in $JA_DDIRS; do
    IFS=
    set +f
    ja_fact "docker.$dk_i.dir" "$dk_d"
    JA_DDIR=$dk_d
    ja_resolve "$JA_P$dk_d"
    JA_DROOT=$ja_r
    ja_plan_docker_project
    ja_docker_config "$dk_d"
    if [ -n "$JA_CFG" ]; then
      ja_fact "docker.$dk_i.config" "$JA_CFG"
      ja_fact "docker.$dk_i.config_source" "$JA_CFG_SRC"
      if ja_confined "$JA_P$JA_CFG"; then ja_dirstate "$JA_P$JA_CFG"; else ja_ds=outside; fi
      case $ja_ds in
        outside) ja_rec F "$JA_CFG" not_regular '' '' '' '' - '' symlink_outside - ;;
        ok)
          JA_DDIR=$JA_CFG
          ja_resolve "$JA_P$JA_CFG"
          JA_DROOT=$ja_r
          ja_plan_docker_config ;;
        denied) ja_rec F "$JA_CFG" permission_denied '' '' '' '' - '' dir_unreadable - ;;
        *) ja_rec F "$JA_CFG" missing '' '' '' '' - '' not_found - ;;
      esac
    fi
    dk_i=$((dk_i + 1))
    set -f
    IFS=$JA_NL
  done
  IFS=
  set +f
}

# Certificates and keys named by the collected nginx/Apache/prosody files. Any path may be named, so the
# content gate (PEM certificate, no private key) is what protects here, not the location. A path
# that already has a record (matched by a glob) is not read again: the first record of a key is
# the one the auditor keeps.
ja_refs() {
  [ -n "$JA_REFS" ] || return 0
  rf_n=0
  set -f
  IFS=$JA_NL
  for rf_e in $JA_REFS; do
    IFS=
    set +f
    rf_n=$((rf_n + 1))
    if [ "$rf_n" -le "$JA_MAX_CERT_REFS" ]; then
      rf_path=${rf_e#?}
      case $JA_NL$JA_FKEYS in
        *"$JA_NL$rf_path$JA_NL"*) ;;
        *)
          case $rf_e in
            c*) ja_file "$rf_path" cert - "${JA_P:-/}" ;;
            *) ja_file "$rf_path" meta - "${JA_P:-/}" ;;
          esac ;;
      esac
    fi
    set -f
    IFS=$JA_NL
  done
  IFS=
  set +f
  [ "$rf_n" -le "$JA_MAX_CERT_REFS" ] || ja_err too_many_files "certificate references: $rf_n, the first $JA_MAX_CERT_REFS collected"
}

# ja_over_cap B64: true when the base64 text B64 holds more than JA_CMD_CAP bytes (head lets CAP + 1
# through). Its length alone cannot tell: CAP is not a multiple of 3, so CAP and CAP + 1 bytes encode to
# the same length, and the padding tells them apart.
ja_over_cap() {
  [ "${#1}" -ge "$JA_CMD_B64CAP" ] || return 1
  case $1 in *==) oc_p=2 ;; *=) oc_p=1 ;; *) oc_p=0 ;; esac
  [ $((${#1} / 4 * 3 - oc_p)) -gt "$JA_CMD_CAP" ]
}

# ja_cmd NAME TIMEOUT ARGV...: stdout only, bounded in time and size. The exit code travels as
# " N " (spaces cannot occur in base64) wherever it lands in the captured output; field splitting takes
# it out in linear time (the pattern removals ${c_res#* } and ${c_res##* } take time quadratic in where
# it landed: minutes for an output near the cap).
ja_cmd() {
  c_n=$1
  c_t=${JA_CMD_TIMEOUT:-$2}
  shift 2
  if ! command -v "$1" >/dev/null 2>&1; then
    ja_rec C "$c_n" missing '' '' '' '' - '' not_installed -
    return 0
  fi
  if [ -z "$JA_HAVE_TIMEOUT" ]; then
    ja_rec C "$c_n" error '' '' '' '' - '' no_timeout -
    return 0
  fi
  c_res=$( { { timeout -k 2 "$c_t" "$@" </dev/null 2>/dev/null; printf ' %s ' "$?" >&3; } |
    head -c "$((JA_CMD_CAP + 1))" | base64 -w0; } 3>&1 )
  case $c_res in ' '*) c_first=1 ;; *) c_first= ;; esac
  IFS=' '
  set -f
  # shellcheck disable=SC2086  # split on purpose
  set -- $c_res
  set +f
  IFS=
  case $# in
    3) c_rc=$2; c_b=$1$3 ;;
    2) if [ -n "$c_first" ]; then c_rc=$1; c_b=$2; else c_rc=$2; c_b=$1; fi ;;
    *) c_rc=${1:-}; c_b= ;;
  esac
  case $c_rc in
    124) ja_rec C "$c_n" error '' '' '' '' - "$c_rc" timeout - ;;
    137) ja_rec C "$c_n" error '' '' '' '' - "$c_rc" killed - ;;
    126) ja_rec C "$c_n" error '' '' '' '' - "$c_rc" not_executable - ;;
    127) ja_rec C "$c_n" missing '' '' '' '' - "$c_rc" not_installed - ;;
    *)
      if ja_over_cap "$c_b"; then
        ja_rec C "$c_n" too_large '' '' '' '' - "$c_rc" output_cap -
      else
        ja_rec C "$c_n" ok '' '' '' '' - "$c_rc" - "$c_b"
      fi ;;
  esac
}

# ja_comm_lines FILE...: the first line of each comm file, one a line (none empty, none over 64 bytes:
# the kernel's comm is at most 15, escaped), read by the shell's own `read` (no process per entry). A
# process that ended meanwhile is skipped, and so is one whose comm cannot be read (/proc mounted
# hidepid=, without root), is not a regular file (a FIFO would block the read for ever, a device never
# end it; only a test tree has either) or is reached through a symlink (only a test tree has any).
ja_comm_lines() {
  for cl_f in "$@"; do
    [ ! -L "$cl_f" ] && [ ! -L "${cl_f%/*}" ] && [ -f "$cl_f" ] || continue
    cl_l=
    { IFS= read -r cl_l < "$cl_f" || [ -n "$cl_l" ]; } 2>/dev/null || continue
    case $cl_l in '' | ?????????????????????????????????????????????????????????????????*) continue ;; esac
    printf '%s\n' "$cl_l"
  done
}

# ja_processes NAME GLOB: the command name of every process (GLOB: /proc/[0-9]*/comm, the executable's
# name, never its arguments), one a line, recorded as the output of command NAME and bounded like one;
# missing when GLOB matches nothing (no /proc). In a container (docker://, kubectl://): the container's own.
ja_processes() {
  pr_n=$1
  pr_g=$JA_P$2
  # shellcheck disable=SC2086  # the glob from the plan
  set -- "$JA_P"$2
  if [ "$#" -eq 1 ] && [ "$1" = "$pr_g" ]; then
    ja_rec C "$pr_n" missing '' '' '' '' - '' no_proc -
    return 0
  fi
  pr_b=$(ja_comm_lines "$@" | head -c "$((JA_CMD_CAP + 1))" | base64 -w0)
  # PID 1 is in every PID namespace: when its comm cannot be read, /proc hides other users' processes
  # (hidepid=, without root) and the list holds only this user's.
  [ -r "$JA_P/proc/1/comm" ] ||
    ja_fact processes.partial "/proc/1/comm not readable (/proc mounted hidepid=): only this user's processes listed"
  if ja_over_cap "$pr_b"; then
    ja_rec C "$pr_n" too_large '' '' '' '' - '' output_cap -
  else
    ja_rec C "$pr_n" ok '' '' '' '' - '' - "$pr_b"
  fi
}

# Container mode: the rendered configuration of a docker-jitsi-meet image: the first of
# $JA_CONTAINER_CONFIGS that exists (/run/<service>/config since the rootless images, /config before).
ja_container() {
  ja_plan_container_host
  JA_DDIR=
  IFS=' '
  set -f
  # shellcheck disable=SC2086  # split on purpose: the plan's paths hold no blank or glob
  for cc_d in $JA_CONTAINER_CONFIGS; do
    JA_DDIR=$cc_d
    if [ -e "$JA_P$cc_d" ] || [ -L "$JA_P$cc_d" ]; then break; fi
  done
  set +f
  IFS=
  ja_fact config_dir "$JA_DDIR"
  if ja_confined "$JA_P$JA_DDIR"; then ja_dirstate "$JA_P$JA_DDIR"; else ja_ds=outside; fi
  case $ja_ds in
    outside) ja_rec F "$JA_DDIR" not_regular '' '' '' '' - '' symlink_outside - ;;
    ok)
      ja_resolve "$JA_P$JA_DDIR"
      JA_DROOT=$ja_r
      ja_plan_container_config ;;
    denied) ja_rec F "$JA_DDIR" permission_denied '' '' '' '' - '' dir_unreadable - ;;
    *) ja_rec F "$JA_DDIR" missing '' '' '' '' - '' not_found - ;;
  esac
}

ja_main() {
  JA_N=0
  JA_SB=
  JA_FKEYS=
  JA_TOTAL=0
  JA_REFS=
  JA_NREFS=0
  JA_DIRS=
  JA_NDIRS=0
  JA_P=
  JA_CMD_TIMEOUT=
  printf '%s\t%s\t%s\t%s\n' "$JA_MAGIC" "$JA_FORMAT" "$JA_COLLECTOR_VERSION" "$JA_PLAN_SHA256"
  if ! command -v base64 >/dev/null 2>&1; then
    printf 'E\tmissing_tool\t-\nZ\t1\n'
    return 0
  fi
  for m_t in stat readlink tr head; do
    command -v "$m_t" >/dev/null 2>&1 || ja_err missing_tool "$m_t not found on the host"
  done
  JA_HAVE_TIMEOUT=
  if command -v timeout >/dev/null 2>&1; then JA_HAVE_TIMEOUT=1; else ja_err missing_tool "timeout not found: commands not run"; fi
  if [ -n "${JITSI_AUDIT_ROOT_PREFIX:-}" ]; then
    if [ -n "${SUDO_USER:-}${SUDO_UID:-}${SUDO_COMMAND:-}" ]; then
      ja_err prefix_refused "JITSI_AUDIT_ROOT_PREFIX is for tests and is ignored under sudo"
    else
      case $JITSI_AUDIT_ROOT_PREFIX in
        /*)
          ja_resolve "$JITSI_AUDIT_ROOT_PREFIX"
          JA_P=$ja_r
          [ "$JA_P" != / ] || JA_P=
          [ -z "$JA_P" ] || ja_fact root_prefix "$JA_P"
          case ${JITSI_AUDIT_CMD_TIMEOUT:-} in '' | *[!0-9]*) ;; *) JA_CMD_TIMEOUT=$JITSI_AUDIT_CMD_TIMEOUT ;; esac ;;
        *) ja_err prefix_refused "JITSI_AUDIT_ROOT_PREFIX must be absolute" ;;
      esac
    fi
  fi
  ja_fact euid "$(id -u 2>/dev/null)"
  if [ -n "${JITSI_AUDIT_CONTAINER:-}" ] && [ -z "${SUDO_USER:-}${SUDO_UID:-}${SUDO_COMMAND:-}" ]; then
    ja_fact mode container
    ja_container
  else
    ja_plan_debian
    ja_docker
  fi
  ja_refs
  ja_dir_modes
  # A copy of a host's root (--root on a backup or disk image) is read through the prefix: its commands
  # and processes are not this machine's to run or list.
  if [ -n "$JA_P" ] && [ -n "${JITSI_AUDIT_OFFLINE_COPY:-}" ]; then
    ja_fact mode offline_copy
  else
    ja_plan_commands
  fi
  printf 'Z\t%s\n' "$JA_N"
}

cd / || exit 1
IFS=
LC_ALL=C
export LC_ALL
if [ -z "${JITSI_AUDIT_ROOT_PREFIX:-}" ] || [ -n "${SUDO_USER:-}${SUDO_UID:-}${SUDO_COMMAND:-}" ]; then
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  export PATH
fi
# The whole run reads /dev/null as stdin: with `sh -s` the script itself arrives on stdin.
ja_main </dev/null
exit 0
