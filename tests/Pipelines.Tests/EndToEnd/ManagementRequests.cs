using System.Net;
using System.Text;
using Xunit;

namespace DataPlane.Pipelines.Tests.EndToEnd;

/// <summary>Definitions sent to a real server's management API by the end-to-end tests.</summary>
internal static class ManagementRequests
{
    /// <summary>POSTs a JSON definition and asserts it was created; otherwise the failure names the path and the server's answer.</summary>
    public static async Task CreateAsync(this HttpClient http, string path, string json)
    {
        var response = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
