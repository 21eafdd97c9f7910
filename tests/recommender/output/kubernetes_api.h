#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "common/http_server.h"
#include "rapidjson/document.h"

// Requests and the metav1.Status checks shared by the external metrics API's tests.
namespace recommender::output {

inline common::HttpRequest Get(std::string path, std::string query = "") {
  common::HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

inline rapidjson::Document Parse(const common::HttpResponse& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_FALSE(d.HasParseError()) << r.body;
  return d;
}

// The exact metav1.Status shape, its code matching the HTTP status.
inline void ExpectStatus(const common::HttpResponse& r, int code, const std::string& reason,
                         const std::string& message_part = "") {
  EXPECT_EQ(r.status, code) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const rapidjson::Document d = Parse(r);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d.MemberCount(), 7u) << r.body;
  EXPECT_STREQ(d["kind"].GetString(), "Status");
  EXPECT_STREQ(d["apiVersion"].GetString(), "v1");
  EXPECT_TRUE(d["metadata"].IsObject() && d["metadata"].ObjectEmpty());
  EXPECT_STREQ(d["status"].GetString(), "Failure");
  EXPECT_EQ(d["reason"].GetString(), reason);
  EXPECT_EQ(d["code"].GetInt(), code);
  EXPECT_THAT(d["message"].GetString(), ::testing::HasSubstr(message_part));
}

}  // namespace recommender::output
