metadata description = 'Remediation: serverless event-driven auto-remediation for Kubernetes/AKS on Azure Functions (Flex Consumption, .NET 10 isolated).'

targetScope = 'subscription'

// ---------------------------------------------------------------------------
// azd conventions
// ---------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment (AZURE_ENV_NAME); seeds resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Primary Azure region for all resources (AZURE_LOCATION). Must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Name of the resource group to create or reuse. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional object id of the developer running azd (AZURE_PRINCIPAL_ID). It gets the same storage (and Event Grid) data roles as the app for local debugging. Empty: none.')
param principalId string = ''

@description('Principal type of principalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

// ---------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------

@description('Maximum number of Flex Consumption instances (40-1000). Bounds how many remediations can run in parallel.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB: 512, 2048 or 4096 (the platform rejects other values).')
@minValue(512)
@maxValue(4096)
param instanceMemoryMB int = 2048

@description('Remediation__PolicyPath: path of the remediation policy file, relative to the app root.')
param policyPath string = 'policy.yaml'

@description('Remediation__Kubernetes__ServerUrl: Kubernetes API server URL. Empty: derived from aksClusterName (if given), else left empty.')
param kubernetesServerUrl string = ''

@description('Remediation__Kubernetes__TokenScope: Microsoft Entra scope of the token the app sends to the API server. Default: the AKS Entra server application (same id in every tenant).')
param kubernetesTokenScope string = '6dae42f8-4368-4678-94ff-3960e28e3630/.default'

@description('Remediation__Kubernetes__CertificateAuthorityData: base64 PEM of the CA that signed the API server certificate (the kubeconfig certificate-authority-data; AKS signs with the cluster CA, which no system trust store holds). Not a secret.')
param kubernetesCertificateAuthorityData string = ''

// ---------------------------------------------------------------------------
// Optional: existing AKS cluster
// ---------------------------------------------------------------------------

@description('Name of an existing AKS cluster to remediate. Empty: no cluster lookup and no AKS role assignment.')
param aksClusterName string = ''

@description('Resource group of the AKS cluster. Empty: the resource group of this deployment.')
param aksClusterResourceGroupName string = ''

@description('Allowlisted Kubernetes namespaces the remediator may act in (scope of the optional AKS role assignment; render the Kubernetes Role/RoleBinding for the same list).')
param aksNamespaces string[] = []

@description('Assign "Azure Kubernetes Service RBAC Writer" to the app identity on <cluster>/namespaces/<ns> for every allowlisted namespace. Needs aksClusterName, Azure RBAC for Kubernetes authorization on the cluster, and rights to assign roles in the cluster resource group. Off by default: the Kubernetes Role in infra/kubernetes is narrower.')
param enableAksRbacWriter bool = false

// ---------------------------------------------------------------------------
// Optional: outcome events and Azure Monitor alert routing
// ---------------------------------------------------------------------------

@description('Create an Event Grid custom topic (CloudEvents 1.0, Entra-only) for Remediation.Completed / Remediation.Escalated events and grant the app EventGrid Data Sender.')
param enableOutcomeTopic bool = false

@description('Create an Azure Monitor action group with a webhook (common alert schema) to /api/alerts/azuremonitor.')
param enableAlertActionGroup bool = false

@description('Function key appended to the action group webhook as ?code=. Unknown before the first deployment: leave empty, then set REMEDIATION_ALERT_FUNCTION_KEY and provision again.')
@secure()
param alertFunctionKey string = ''

@description('Days the Log Analytics workspace retains data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'remediation'
}
var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  identity: 'id-remediation-${resourceToken}'
  storage: 'st${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  applicationInsights: 'appi-${resourceToken}'
  plan: 'plan-remediation-${resourceToken}'
  functionApp: 'func-remediation-${resourceToken}'
  topic: 'evgt-remediation-${resourceToken}'
  actionGroup: 'ag-remediation-${resourceToken}'
}
var deploymentContainerName = 'app-package-${take(names.functionApp, 32)}'
var incidentsTable = 'incidents'
var workQueue = 'remediation-work'
// NCRONTAB (six fields, seconds first) of the VerifyRemediations timer, bound as %Remediation:VerifySchedule%.
var verifySchedule = '*/15 * * * * *'
var useAks = !empty(aksClusterName)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'core/security/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    containerNames: [
      deploymentContainerName
    ]
    // The remediations in flight have a table of their own (the incidents table's name + 'inflight').
    tableNames: [
      incidentsTable
      '${incidentsTable}inflight'
    ]
    // The Functions host creates <queue>-poison on its own after maxDequeueCount failures;
    // creating it here makes it visible (and alertable) from day one.
    queueNames: [
      workQueue
      '${workQueue}-poison'
    ]
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  dependsOn: [
    storage
    monitoring
  ]
  params: {
    // Compile-time names keep What-If precise; dependsOn orders the deployment.
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    // Role assignment names are guid(scope, principalId, roleDefinitionId); the principal id only
    // exists once the identity does, so What-If cannot predict these names.
    #disable-next-line what-if-short-circuiting
    identityPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module outcomeTopic 'app/eventgrid-topic.bicep' = if (enableOutcomeTopic) {
  name: 'outcome-topic'
  scope: rg
  params: {
    name: names.topic
    location: location
    tags: tags
    #disable-next-line what-if-short-circuiting
    senderPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module aks 'app/aks-access.bicep' = if (useAks) {
  name: 'aks-access-${resourceToken}'
  scope: resourceGroup(empty(aksClusterResourceGroupName) ? names.resourceGroup : aksClusterResourceGroupName)
  params: {
    clusterName: aksClusterName
    // union() with an empty array drops duplicates (a duplicate would collide on the role assignment name).
    namespaces: union(aksNamespaces, [])
    #disable-next-line what-if-short-circuiting
    principalId: identity.outputs.principalId
    assignRbacWriter: enableAksRbacWriter
  }
}

var resolvedKubernetesServerUrl = !empty(kubernetesServerUrl) ? kubernetesServerUrl : (aks.?outputs.?apiServerUrl ?? '')

var remediationSettings = {
  Remediation__Storage__TableServiceUri: storage.outputs.tableEndpoint
  Remediation__Storage__QueueServiceUri: storage.outputs.queueEndpoint
  Remediation__Storage__ClientId: identity.outputs.clientId
  Remediation__Storage__IncidentsTable: incidentsTable
  // Read by the producers (ingest, scheduler) and bound by the queue triggers as %Remediation:Storage:WorkQueue%.
  Remediation__Storage__WorkQueue: workQueue
  Remediation__VerifySchedule: verifySchedule
  Remediation__PolicyPath: policyPath
}

// Written only when there is a server: an empty value would bind to an empty (relative) Uri.
var kubernetesSettings = empty(resolvedKubernetesServerUrl)
  ? {}
  : {
      Remediation__Kubernetes__ServerUrl: resolvedKubernetesServerUrl
      Remediation__Kubernetes__TokenScope: kubernetesTokenScope
      Remediation__Kubernetes__CertificateAuthorityData: kubernetesCertificateAuthorityData
    }

var notificationSettings = enableOutcomeTopic
  ? {
      Remediation__Notifications__EventGridTopicEndpoint: outcomeTopic.?outputs.?endpoint ?? ''
    }
  : {}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  dependsOn: [
    monitoring
    // Host storage and telemetry need their roles before the host first starts.
    rbac
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: names.storage
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: names.applicationInsights
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: union(remediationSettings, kubernetesSettings, notificationSettings)
  }
}

module alertActionGroup 'app/alert-action-group.bicep' = if (enableAlertActionGroup) {
  name: 'alert-action-group'
  scope: rg
  params: {
    name: names.actionGroup
    tags: tags
    functionAppHostName: api.outputs.defaultHostName
    functionKey: alertFunctionKey
  }
}

// ---------------------------------------------------------------------------
// Outputs (azd stores them in .azure/<env>/.env). None of them is a secret.
// ---------------------------------------------------------------------------

@description('Region of the deployment.')
output AZURE_LOCATION string = location

@description('Tenant of the deployment.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group holding the Remediation resources.')
output AZURE_RESOURCE_GROUP string = rg.name

@description('Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = api.outputs.name

@description('Base URL of the function app.')
output AZURE_FUNCTION_APP_URL string = api.outputs.uri

@description('azd service output: name of the api service resource.')
output SERVICE_API_NAME string = api.outputs.name

@description('azd service output: base URL of the api service.')
output SERVICE_API_URI string = api.outputs.uri

@description('Storage account used by the host and the app.')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Table service endpoint (Remediation__Storage__TableServiceUri).')
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint

@description('Queue service endpoint (Remediation__Storage__QueueServiceUri).')
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint

@description('Name of the user-assigned managed identity.')
output AZURE_IDENTITY_NAME string = identity.outputs.name

@description('Client id of the user-assigned managed identity.')
output AZURE_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Object id of the user-assigned managed identity: the subject of the Kubernetes RoleBinding (render-rbac.sh --principal).')
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

@description('Name of the Application Insights component.')
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName

@description('Kubernetes API server URL configured for the app (may be empty).')
output REMEDIATION_KUBERNETES_SERVER_URL string = resolvedKubernetesServerUrl

@description('Allowlisted namespaces, comma-separated (for render-rbac.sh).')
output REMEDIATION_NAMESPACES string = join(aksNamespaces, ',')

@description('Alertmanager webhook URL (append ?code=<function key>).')
output REMEDIATION_ALERTMANAGER_WEBHOOK_URL string = '${api.outputs.uri}/api/alerts/alertmanager'

@description('Azure Monitor (common alert schema) webhook URL (append ?code=<function key>).')
output REMEDIATION_AZURE_MONITOR_WEBHOOK_URL string = '${api.outputs.uri}/api/alerts/azuremonitor'

@description('Event Grid webhook subscription URL (append ?code=<function key>).')
output REMEDIATION_EVENTGRID_WEBHOOK_URL string = '${api.outputs.uri}/api/alerts/eventgrid'

@description('Outcome Event Grid topic endpoint (empty when enableOutcomeTopic is false).')
output REMEDIATION_EVENTGRID_TOPIC_ENDPOINT string = outcomeTopic.?outputs.?endpoint ?? ''

@description('Resource id of the outcome Event Grid topic, for event subscriptions (empty when enableOutcomeTopic is false).')
output REMEDIATION_EVENTGRID_TOPIC_ID string = outcomeTopic.?outputs.?id ?? ''

@description('Resource id of the alert action group (empty when enableAlertActionGroup is false).')
output AZURE_ALERT_ACTION_GROUP_ID string = alertActionGroup.?outputs.?id ?? ''
