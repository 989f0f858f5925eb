using DataPlane.Storage.S3;
using Xunit;

namespace DataPlane.Storage.Tests;

/// <summary>
/// s3rver does not verify V4 signatures, so the contract tests cannot catch a wrong one; AWS's own documented examples
/// ("Signature Calculations for the Authorization Header", examplebucket, 2013-05-24) and its SigV4 test suite can.
/// </summary>
public sealed class SigV4Tests
{
    private static readonly SigV4 AwsExample = new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1");
    private static readonly DateTime AwsExampleTime = new(2013, 5, 24, 0, 0, 0, DateTimeKind.Utc);

    [Theory]
    // "Example: GET Bucket (List Objects)": a query with values, sorted for signing
    [InlineData("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    [InlineData("prefix=J&max-keys=2", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    // "Example: GET Bucket Lifecycle": a bare sub-resource name, as ?uploads is
    [InlineData("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")]
    public void Signs_the_aws_documentation_examples(string query, string signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://examplebucket.s3.amazonaws.com/?" + query);

        AwsExample.Sign(request, "/", query, SigV4.Sha256Hex([]), AwsExampleTime);

        var authorization = string.Join(",", request.Headers.GetValues("Authorization"));
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", authorization);
        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date", authorization);
        Assert.EndsWith("Signature=" + signature, authorization);
    }

    [Fact]
    public void Signs_every_amz_header_in_canonical_order_whatever_the_order_and_case_they_were_added_in()
    {
        string Authorization(params (string Name, string Value)[] headers)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "https://examplebucket.s3.amazonaws.com/test.txt");
            foreach (var (name, value) in headers)
                request.Headers.TryAddWithoutValidation(name, value);
            AwsExample.Sign(request, "/test.txt", "", SigV4.UnsignedPayload, AwsExampleTime);
            return string.Join(",", request.Headers.GetValues("Authorization"));
        }

        var signed = Authorization(("x-amz-meta-b", "2"), ("X-Amz-Meta-A", "1"), ("x-amz-storage-class", "STANDARD_IA"));

        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b;x-amz-storage-class,", signed);
        Assert.Equal(signed, Authorization(("x-amz-storage-class", "STANDARD_IA"), ("x-amz-meta-a", "1"), ("x-amz-meta-b", "2")));
        // The value is part of the signature, so a different one must sign differently.
        Assert.NotEqual(signed, Authorization(("x-amz-meta-b", "3"), ("x-amz-meta-a", "1"), ("x-amz-storage-class", "STANDARD_IA")));
    }

    [Fact]
    public void Signs_header_values_in_canonical_form_trimmed_with_inner_spaces_collapsed()
    {
        string Signature(string value)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "https://examplebucket.s3.amazonaws.com/test.txt");
            request.Headers.TryAddWithoutValidation("x-amz-meta-title", value);
            AwsExample.Sign(request, "/test.txt", "", SigV4.UnsignedPayload, AwsExampleTime);
            return string.Join(",", request.Headers.GetValues("Authorization"));
        }

        Assert.Equal(Signature("a b c"), Signature("  a   b c "));
        Assert.NotEqual(Signature("a b c"), Signature("a bc"));
    }

    // AWS's SigV4 test suite (aws-sig-v4-test-suite, post-sts-token/post-sts-header-before): temporary credentials, the
    // session token sent as X-Amz-Security-Token and signed. The suite signs for a generic service, without S3's
    // x-amz-content-sha256, at 2015-08-30T12:36:00Z.
    private const string SuiteSessionToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    [Fact]
    public void Signs_the_session_token_of_temporary_credentials_as_aws_test_suite_does()
    {
        var signer = new SigV4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", SuiteSessionToken, service: "service");
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://example.amazonaws.com/");

        signer.Sign(request, "/", "", SigV4.Sha256Hex([]), new DateTime(2015, 8, 30, 12, 36, 0, DateTimeKind.Utc));

        Assert.Equal(SuiteSessionToken, Assert.Single(request.Headers.GetValues("X-Amz-Security-Token")));
        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, " +
            "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            string.Join(",", request.Headers.GetValues("Authorization")));
    }

    [Fact]
    public void An_s3_request_with_temporary_credentials_signs_the_token_beside_the_payload_hash()
    {
        var temporary = new SigV4("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "session-token-1");
        string Authorization(SigV4 signer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "https://examplebucket.s3.amazonaws.com/test.txt");
            signer.Sign(request, "/test.txt", "", SigV4.UnsignedPayload, AwsExampleTime);
            return string.Join(",", request.Headers.GetValues("Authorization"));
        }

        var signed = Authorization(temporary);

        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", signed);
        Assert.NotEqual(signed, Authorization(new SigV4("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "session-token-2")));
        Assert.DoesNotContain("x-amz-security-token", Authorization(AwsExample));
    }

    [Theory]
    [InlineData("a-b_c.d~e", false, "a-b_c.d~e")]
    [InlineData("a b/c+d=é", false, "a%20b%2Fc%2Bd%3D%C3%A9")]
    [InlineData("db/t 1/data!.parquet", true, "db/t%201/data%21.parquet")]
    [InlineData("*'()", true, "%2A%27%28%29")]
    public void Encodes_all_but_the_unreserved_characters(string value, bool keepSlash, string expected) =>
        Assert.Equal(expected, SigV4.Encode(value, keepSlash));
}
