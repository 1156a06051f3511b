// Parameters for `azd provision` / `azd up`. azd exports the active environment
// (.azure/<env>/.env plus AZURE_ENV_NAME, AZURE_LOCATION, AZURE_SUBSCRIPTION_ID) as environment
// variables before it builds this file; set the optional ones with `azd env set NAME value`.
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION')
param resourceGroupName = readEnvironmentVariable('AZURE_RESOURCE_GROUP', '')

// Developer access for local debugging (optional):
//   azd env set AZURE_PRINCIPAL_ID "$(az ad signed-in-user show --query id -o tsv)"
param principalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param principalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')

param maximumInstanceCount = int(readEnvironmentVariable('REMEDIATION_MAX_INSTANCES', '40'))
param instanceMemoryMB = int(readEnvironmentVariable('REMEDIATION_INSTANCE_MEMORY_MB', '2048'))
param policyPath = readEnvironmentVariable('REMEDIATION_POLICY_PATH', 'policy.yaml')

// Kubernetes target.
param kubernetesServerUrl = readEnvironmentVariable('REMEDIATION_KUBERNETES_SERVER_URL', '')
param kubernetesTokenScope = readEnvironmentVariable(
  'REMEDIATION_KUBERNETES_TOKEN_SCOPE',
  '6dae42f8-4368-4678-94ff-3960e28e3630/.default'
)
// base64 PEM of the API server's CA: azd env set REMEDIATION_KUBERNETES_CA_DATA "$(az aks get-credentials -g RG -n NAME -f - | yq '.clusters[0].cluster."certificate-authority-data"')"
param kubernetesCertificateAuthorityData = readEnvironmentVariable('REMEDIATION_KUBERNETES_CA_DATA', '')
param aksClusterName = readEnvironmentVariable('AKS_CLUSTER_NAME', '')
param aksClusterResourceGroupName = readEnvironmentVariable('AKS_RESOURCE_GROUP', '')
// Comma-separated, e.g. azd env set REMEDIATION_NAMESPACES "shop,payments"
param aksNamespaces = filter(
  map(split(readEnvironmentVariable('REMEDIATION_NAMESPACES', ''), ','), ns => trim(ns)),
  ns => !empty(ns)
)
param enableAksRbacWriter = bool(readEnvironmentVariable('REMEDIATION_ENABLE_AKS_RBAC_WRITER', 'false'))

// Optional integrations.
param enableOutcomeTopic = bool(readEnvironmentVariable('REMEDIATION_ENABLE_OUTCOME_TOPIC', 'false'))
param enableAlertActionGroup = bool(readEnvironmentVariable('REMEDIATION_ENABLE_ACTION_GROUP', 'false'))
param alertFunctionKey = readEnvironmentVariable('REMEDIATION_ALERT_FUNCTION_KEY', '')

param logRetentionInDays = int(readEnvironmentVariable('REMEDIATION_LOG_RETENTION_DAYS', '30'))
