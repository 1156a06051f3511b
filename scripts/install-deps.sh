#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian machine with the .NET SDK, Node.js and npm.
# Idempotent: skips what is already there. apt-get update runs at most once.
#   scripts/install-deps.sh              everything the tests use (Azurite, kubectl, Prometheus, Alertmanager, Chromium)
#   scripts/install-deps.sh demo         what scripts/demo uses (Azurite, kubectl)
#   scripts/install-deps.sh monitoring   what scripts/demo --monitoring uses (and Prometheus, Alertmanager)
set -euo pipefail
cd "$(dirname "$0")/.."
for_what="${1:-tests}"
case "$for_what" in tests|demo|monitoring) ;; *) echo "usage: scripts/install-deps.sh [tests|demo|monitoring]" >&2; exit 2 ;; esac

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Azurite (pinned in package-lock.json).
if [ ! -x node_modules/.bin/azurite ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# kubectl: the machine image may ship one; Debian's kubernetes-client conflicts with it, so only install when absent.
if ! command -v kubectl >/dev/null 2>&1; then
  apt_install kubernetes-client
fi

# Prometheus and Alertmanager run as plain binaries from the tests (not as services).
need=()
if [ "$for_what" != demo ]; then
  command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
  command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
  if [ "${#need[@]}" -gt 0 ] && [ "${REMEDIATION_SKIP_APT:-0}" != 1 ]; then
    # The packages would start system services; the tests run their own instances on other ports. Debian's
    # policy-rc.d (invoke-rc.d asks it before starting a service; exit 101 = not allowed) keeps them from starting,
    # so nothing has to be stopped afterwards. Ours is removed again; one that was already there is left alone.
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    policy_rc_d=/usr/sbin/policy-rc.d
    created_policy_rc_d=0
    if [ ! -e "$policy_rc_d" ]; then
      printf '#!/bin/sh\n# Written by Remediation scripts/install-deps.sh during apt-get install: no service starts.\nexit 101\n' \
        | $SUDO tee "$policy_rc_d" >/dev/null
      $SUDO chmod 755 "$policy_rc_d"
      created_policy_rc_d=1
    fi
    remove_policy_rc_d() {
      if [ "$created_policy_rc_d" = 1 ]; then $SUDO rm -f "$policy_rc_d"; created_policy_rc_d=0; fi
    }
    trap remove_policy_rc_d EXIT
    apt_install "${need[@]}"
    remove_policy_rc_d
    trap - EXIT
  fi
fi

# Chromium renders the history page in the headless-browser test (screenshot and DOM).
if [ "$for_what" = tests ] && ! command -v chromium >/dev/null 2>&1 && [ "${REMEDIATION_SKIP_APT:-0}" != 1 ]; then
  apt_install chromium
fi
