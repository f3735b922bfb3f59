module github.com/lambdabridge/lambdabridge/emf/internal/baselinebench

go 1.26.7

require github.com/lambdabridge/lambdabridge v0.0.0

require github.com/valyala/fastjson v1.6.10

replace github.com/lambdabridge/lambdabridge => ../../..
