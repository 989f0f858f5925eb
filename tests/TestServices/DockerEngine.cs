using System.Net.Sockets;

namespace DataPlane.TestServices;

/// <summary>Whether a Docker engine answers here, so fixtures may use Testcontainers instead of local processes.</summary>
public static class DockerEngine
{
    private static readonly Lazy<bool> Available = new(() =>
    {
        if (Environment.GetEnvironmentVariable("DATAPLANE_TEST_NO_DOCKER") == "1")
            return false;
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 })
            return true;
        const string socketPath = "/var/run/docker.sock";
        if (!File.Exists(socketPath))
            return false;
        try
        {
            // The docker CLI is installed on machines without an engine; only a socket that answers counts.
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    });

    public static bool IsAvailable => Available.Value;
}
