metadata description = 'Reads an existing AKS cluster (API server URL) and optionally grants the Remediation identity "Azure Kubernetes Service RBAC Writer" on each allowlisted namespace. Deploy into the cluster resource group.'

// This module deliberately compiles to a languageVersion 1.0 template (no imports, no typed
// arrays): there `existing` resources only contribute resource ids and are never read, which
// matters for the namespace resources below (ordinary namespaces are not ARM resources).
@description('Name of the existing AKS cluster in the target resource group of this module.')
param clusterName string

@description('Allowlisted Kubernetes namespaces the remediator may act in.')
param namespaces array = []

@description('Object (principal) id of the Remediation managed identity.')
param principalId string

@description('Assign the Azure built-in role "Azure Kubernetes Service RBAC Writer" on every allowlisted namespace (scope <cluster id>/namespaces/<ns>). Only useful for clusters with Azure RBAC for Kubernetes authorization. The role is broader than the Role in infra/kubernetes (it includes Secrets and ConfigMaps), so the default is false and the Kubernetes Role/RoleBinding is the least-privilege path.')
param assignRbacWriter bool = false

resource cluster 'Microsoft.ContainerService/managedClusters@2025-05-01' existing = {
  name: clusterName
}

// Only used to build the namespace-scoped id `${cluster.id}/namespaces/${ns}`; nothing is
// read or deployed from it, so its (preview) API version never reaches ARM.
resource clusterNamespaces 'Microsoft.ContainerService/managedClusters/namespaces@2025-02-02-preview' existing = [
  for ns in namespaces: {
    parent: cluster
    name: ns
  }
]

// Azure Kubernetes Service RBAC Writer (roleIds.aksRbacWriter in core/security/roles.bicep).
var rbacWriterRoleId = subscriptionResourceId(
  'Microsoft.Authorization/roleDefinitions',
  'a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb'
)

resource namespaceWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (ns, i) in namespaces: if (assignRbacWriter) {
    name: guid(clusterNamespaces[i].id, principalId, rbacWriterRoleId)
    scope: clusterNamespaces[i]
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: rbacWriterRoleId
      description: 'Remediation: write access limited to allowlisted namespace ${ns}.'
    }
  }
]

@description('HTTPS URL of the cluster API server (public FQDN, else private FQDN).')
output apiServerUrl string = 'https://${cluster.properties.?fqdn ?? cluster.properties.?privateFQDN ?? ''}:443'

@description('Resource id of the cluster.')
output clusterId string = cluster.id
