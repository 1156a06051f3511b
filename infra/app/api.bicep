metadata description = 'Flex Consumption (FC1) Linux plan and the .NET 10 isolated function app that runs Remediation, using a user-assigned identity for storage, deployment and telemetry.'

@description('Name of the function app (also the <name>.azurewebsites.net host name).')
param name string

@description('Name of the Flex Consumption App Service plan.')
param planName string

@description('Azure region of the plan and the app. Must be a region that offers Flex Consumption.')
param location string

@description('Tags applied to the plan and the app. The app additionally gets azd-service-name.')
param tags object = {}

@description('Service name in azure.yaml that azd deploys to this app.')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Name of the (existing) storage account used by the Functions host, the deployment package and the app data.')
param storageAccountName string

@description('Blob container in that storage account that holds deployment packages.')
param deploymentContainerName string

@description('Name of the (existing) Application Insights component. Its connection string is read here so it never travels as a module output.')
param applicationInsightsName string

@description('Maximum number of instances the app scales out to (Flex Consumption allows 40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory size of each instance in MB: 512, 2048 or 4096.')
@minValue(512)
@maxValue(4096)
param instanceMemoryMB int = 2048

@description('.NET isolated worker runtime version.')
param runtimeVersion string = '10.0'

@description('Additional app settings (name -> value) merged over the host/telemetry settings computed here. Must not contain secrets.')
param appSettings object = {}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Linux.
    reserved: true
  }
}

// Identity-based host storage and Entra-authenticated telemetry. Flex Consumption manages
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION itself; they must not be set here.
var baseSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // Not a secret (it only identifies the ingestion endpoint; local auth is disabled),
  // but still kept out of every output.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Lets DefaultAzureCredential / ManagedIdentityCredential pick the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Alert deliveries one instance ingests at once (as the standalone host's Remediation:MaxConcurrentDeliveries):
        // more scale out to another instance instead of queueing behind storage on this one.
        triggers: {
          http: {
            perInstanceConcurrency: 64
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
    }
  }
}

// A separate config resource (rather than siteConfig.appSettings) because the values are only
// known at deployment time (storage endpoints, App Insights connection string). It replaces the
// whole app settings collection on every provision: manage settings here, not in the portal.
resource settings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: app
  name: 'appsettings'
  properties: union(baseSettings, appSettings)
}

// No FTP or SCM basic-auth publishing: azd deploys with a Microsoft Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the function app.')
output name string = app.name

@description('Resource id of the function app.')
output id string = app.id

@description('Default host name, e.g. <name>.azurewebsites.net.')
output defaultHostName string = app.properties.defaultHostName

@description('HTTPS base URL of the function app.')
output uri string = 'https://${app.properties.defaultHostName}'
