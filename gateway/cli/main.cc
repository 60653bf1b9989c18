#include <iostream>

#include "gateway/cli/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return gw::cli::Run(args, std::cout, std::cerr);
}
