using DataPlane.Slurper.Kafka;
using Xunit;

namespace DataPlane.Slurper.Tests;

public class KafkaClientsTests
{
    [Theory]
    [InlineData(null, null, true)]
    [InlineData("true", null, true)]
    [InlineData("false", "0.9.0.1", false)]
    [InlineData("false", "0.10.0", false)]
    [InlineData("false", "0.10.1", true)]
    [InlineData("false", "2.8.0", true)]
    public void Topics_are_created_explicitly_unless_the_broker_is_configured_as_older_than_0_10_1(string? apiVersionRequest, string? fallback, bool creates)
    {
        var config = new Dictionary<string, string>();
        if (apiVersionRequest is not null) config["api.version.request"] = apiVersionRequest;
        if (fallback is not null) config["broker.version.fallback"] = fallback;
        Assert.Equal(creates, KafkaClients.SupportsCreateTopics(new KafkaSettings("127.0.0.1:9092") { Config = config }));
    }
}
