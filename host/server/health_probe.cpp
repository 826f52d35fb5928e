// secmlops-health: asks a secmlopsd's standard gRPC health service whether it is serving. It is
// what a container HEALTHCHECK and a Kubernetes exec probe run: Kubernetes' own gRPC probe
// speaks neither TLS nor tokens, while this one reaches the server's unix socket (plaintext,
// health needs no token) or its TLS port.
//
// Exit codes: 0 SERVING, 1 answered but not serving, 2 no answer (unreachable, timeout, error).
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>
#include "secmlops/host/guarded_main.hpp"

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

// grpc.health.v1.HealthCheckRequest { string service = 1; } written with protobuf's own coder:
// the probe needs no generated code for two one-field messages.
grpc::ByteBuffer health_request(const std::string& service) {
  std::string bytes;
  if (!service.empty()) {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.WriteTag((1u << 3) | 2u);
    coded.WriteVarint32(static_cast<uint32_t>(service.size()));
    coded.WriteString(service);
  }
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// HealthCheckResponse { ServingStatus status = 1; }: the status number, or -1 when the bytes do
// not hold one.
int health_status(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  int status = 0;  // proto3: an absent field is 0 (UNKNOWN)
  while (uint32_t tag = in.ReadTag()) {
    if (tag == (1u << 3)) {
      uint32_t v = 0;
      if (!in.ReadVarint32(&v)) return -1;
      status = static_cast<int>(v);
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return -1;
    }
  }
  return in.ConsumedEntireMessage() ? status : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* status_name(int s) {
  switch (s) {
    case 0:
      return "UNKNOWN";
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
    default:
      return "unrecognised";
  }
}

}  // namespace

static int program_main(int argc, char** argv) {
  CLI::App app{"secmlops-health: is a secmlopsd serving? (grpc.health.v1.Health/Check)"};
  std::string address = "unix:/run/secmlops/api.sock", service, ca, server_name;
  double timeout = 5;
  bool quiet = false;
  app.add_option("--address,-a", address, "unix:/path or host:port")->capture_default_str();
  app.add_option("--service", service, "the service to ask about (default: the server as a whole)");
  app.add_option("--tls-ca", ca, "PEM CA that signed the server's certificate: connect with TLS");
  app.add_option("--tls-server-name", server_name,
                 "name the certificate must carry (default: the host)");
  app.add_option("--timeout", timeout, "seconds to wait for the answer")->capture_default_str();
  app.add_flag("--quiet,-q", quiet, "print nothing; the exit code tells");
  CLI11_PARSE(app, argc, argv);

  try {
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    grpc::ChannelArguments args;
    if (!ca.empty()) {
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = read_file(ca);
      creds = grpc::SslCredentials(tls);
      if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    }
    auto channel = grpc::CreateCustomChannel(address, creds, args);
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000)));
    grpc::CompletionQueue cq;
    auto call =
        stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", health_request(service), &cq);
    call->StartCall();
    grpc::ByteBuffer response;
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok) || !ok) throw std::runtime_error("the call did not complete");
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    if (!status.ok()) {
      if (!quiet)
        std::cerr << "secmlops-health: " << address << ": " << status.error_message() << "\n";
      return 2;
    }
    int s = health_status(response);
    if (s < 0) {
      if (!quiet) std::cerr << "secmlops-health: " << address << ": malformed answer\n";
      return 2;
    }
    if (!quiet) std::cout << address << ": " << status_name(s) << "\n";
    return s == 1 ? 0 : 1;
  } catch (const std::exception& e) {
    if (!quiet) std::cerr << "secmlops-health: " << e.what() << "\n";
    return 2;
  }
}

int main(int argc, char** argv) {
  return secmlops::host::guarded_main("secmlops-health", [&] { return program_main(argc, argv); });
}
