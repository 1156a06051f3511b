#!/usr/bin/env bash
# Lint the infrastructure: every infra/**/*.bicep is built and linted, every .bicepparam is
# built and linted, and the Kubernetes RBAC template is checked. Fails on any error OR warning.
#
# Needs only the .NET SDK: the Bicep CLI comes from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 restored by infra/tools/bicep-cli.proj.
# Build output goes to a temporary directory that is removed on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
infra="${repo_root}/infra"
tools_proj="${infra}/tools/bicep-cli.proj"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# --- Bicep CLI from NuGet ----------------------------------------------------------------
bicep_version="$(sed -n 's:.*<BicepCliVersion>\(.*\)</BicepCliVersion>.*:\1:p' "${tools_proj}")"
[[ -n "${bicep_version}" ]] || { echo "lint-infra: no <BicepCliVersion> in ${tools_proj}" >&2; exit 1; }

case "$(uname -m)" in
  x86_64 | amd64) bicep_rid="linux-x64" ;;
  aarch64 | arm64) bicep_rid="linux-arm64" ;;
  *) echo "lint-infra: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
if [[ "${bicep_rid}" != "linux-x64" ]]; then
  echo "lint-infra: infra/tools/bicep-cli.proj restores the linux-x64 CLI only" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! dotnet restore "${tools_proj}" --nologo --verbosity quiet >"${work}/restore.log" 2>&1; then
  cat "${work}/restore.log" >&2
  echo "lint-infra: dotnet restore ${tools_proj#"${repo_root}/"} failed" >&2
  exit 1
fi

packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p' | tail -n 1)"
packages="${packages%/}"
bicep="${packages}/azure.bicep.commandline.${bicep_rid}/${bicep_version}/tools/bicep"
[[ -f "${bicep}" ]] || { echo "lint-infra: Bicep CLI not found at ${bicep}" >&2; exit 1; }
chmod +x "${bicep}"

# The CLI is a self-contained .NET app: run it without ICU when the machine has none.
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi

"${bicep}" --version

# main.bicepparam reads the azd environment; give the required variables placeholder values
# when this runs outside azd (CI, a fresh clone).
export AZURE_ENV_NAME="${AZURE_ENV_NAME:-lint}"
export AZURE_LOCATION="${AZURE_LOCATION:-eastus2}"

# --- Bicep build + lint ------------------------------------------------------------------
mapfile -t bicep_files < <(cd "${repo_root}" && find infra -type f -name '*.bicep' \
  -not -path '*/obj/*' -not -path '*/bin/*' | LC_ALL=C sort)
mapfile -t param_files < <(cd "${repo_root}" && find infra -type f -name '*.bicepparam' \
  -not -path '*/obj/*' -not -path '*/bin/*' | LC_ALL=C sort)

failures=0
diagnostics="${work}/diagnostics.txt"
: >"${diagnostics}"

run() {
  # run <label> <command...>: keeps every line the CLI prints; a non-zero exit is an error
  # even when it printed no diagnostic.
  local label="$1"
  shift
  local out="${work}/out.txt"
  if ! (cd "${repo_root}" && "$@") >"${out}" 2>&1; then
    failures=$((failures + 1))
    echo "FAILED: ${label}" >&2
  fi
  cat "${out}" >>"${diagnostics}"
}

for f in "${bicep_files[@]}"; do
  out_dir="${work}/build/$(dirname "${f}")"
  mkdir -p "${out_dir}"
  run "bicep build ${f}" "${bicep}" build "${f}" --outdir "${out_dir}"
  run "bicep lint ${f}" "${bicep}" lint "${f}"
done
for f in "${param_files[@]}"; do
  out_file="${work}/build/${f%.bicepparam}.parameters.json"
  mkdir -p "$(dirname "${out_file}")"
  run "bicep build-params ${f}" "${bicep}" build-params "${f}" --outfile "${out_file}"
  run "bicep lint ${f}" "${bicep}" lint "${f}"
done

# build and lint report the same diagnostic for a file (and a parent reports its modules'):
# count each distinct diagnostic once.
sed "s|${repo_root}/||" "${diagnostics}" | LC_ALL=C sort -u >"${work}/unique.txt"
errors="$(grep -c ' : Error ' "${work}/unique.txt" || true)"
warnings="$(grep -c ' : Warning ' "${work}/unique.txt" || true)"
if [[ -s "${work}/unique.txt" ]]; then
  cat "${work}/unique.txt"
fi
# A failed command that printed no "Error" line still fails the run.
if [[ "${failures}" -gt 0 && "${errors}" -eq 0 ]]; then
  errors="${failures}"
fi

# --- Kubernetes RBAC template ------------------------------------------------------------
k8s_dir="${infra}/kubernetes"
k8s_problems=0
k8s_fail() {
  echo "kubernetes: $*" >&2
  k8s_problems=$((k8s_problems + 1))
}
template="${k8s_dir}/rbac.template.yaml"
if [[ -f "${template}" ]]; then
  # Only the rules/metadata matter; comments may mention anything.
  body="$(grep -v '^[[:space:]]*#' "${template}")"
  grep -q '"\*"' <<<"${body}" && k8s_fail "wildcard in rbac.template.yaml"
  grep -Eqi '\b(secrets|configmaps)\b' <<<"${body}" && k8s_fail "secrets/configmaps in rbac.template.yaml"
  grep -Eq 'kind: *Cluster(Role|RoleBinding)' <<<"${body}" && k8s_fail "cluster-scoped RBAC in rbac.template.yaml"
  grep -Eq '"(create|update|escalate|bind|impersonate)"' <<<"${body}" &&
    k8s_fail "a verb outside get/list/watch/patch/delete in rbac.template.yaml"
  if ! expected="$("${k8s_dir}/render-rbac.sh" shop --principal 00000000-0000-0000-0000-000000000000)"; then
    k8s_fail "render-rbac.sh failed"
  elif ! diff -u "${k8s_dir}/rbac.example.yaml" <(printf '%s\n' "${expected}") >"${work}/k8s.diff"; then
    cat "${work}/k8s.diff" >&2
    k8s_fail "rbac.example.yaml is stale: infra/kubernetes/render-rbac.sh shop --principal 00000000-0000-0000-0000-000000000000 > infra/kubernetes/rbac.example.yaml"
  fi
  if grep -q '\${' <<<"${expected:-}"; then
    k8s_fail "placeholder left in rendered output"
  fi
  echo "kubernetes: rbac template checked, ${k8s_problems} problems"
fi

file_count=$((${#bicep_files[@]} + ${#param_files[@]}))
echo "bicep: ${file_count} files, ${errors} errors, ${warnings} warnings"

if [[ "${errors}" -ne 0 || "${warnings}" -ne 0 || "${k8s_problems}" -ne 0 ]]; then
  exit 1
fi
